/**
 * Apdex(T) = (satisfied + tolerating / 2) / total, with satisfied <= T < tolerating <= 4T < frustrated.
 * Undefined for an empty window: a score of 0 or 1 there would be a fiction that trips or silences alarms.
 */
export function apdexScore(satisfied: number, tolerating: number, total: number): number | undefined {
  if (!(total > 0)) return undefined;
  if (satisfied < 0 || tolerating < 0 || satisfied + tolerating > total) {
    throw new RangeError(`apdex counts are inconsistent: satisfied=${satisfied} tolerating=${tolerating} total=${total}`);
  }
  return (satisfied + tolerating / 2) / total;
}

