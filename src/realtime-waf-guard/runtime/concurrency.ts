/** Maps with at most `limit` calls in flight, keeping input order; the first failure rejects. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Exponential backoff with full jitter: a random wait up to base * 2^attempt, capped. */
export function backoffMs(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** attempt));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Maps with at most `limit` calls in flight and waits for every call it started, so no outcome goes unseen when one
 * fails. With `stopOnFailure`, items not yet started when a call fails are skipped (left undefined).
 */
export async function settleLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
  stopOnFailure = false,
): Promise<Array<PromiseSettledResult<R> | undefined>> {
  const results = new Array<PromiseSettledResult<R> | undefined>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < items.length && !(stopOnFailure && failed)) {
      const i = next++;
      try {
        results[i] = { status: 'fulfilled', value: await fn(items[i], i) };
      } catch (reason) {
        failed = true;
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
