import { detectionDelayMs, falseBlocksPerClientDay, loggedThreshold, samplingProblem } from '../../src/realtime-waf-guard/runtime/sampling-bound';

/**
 * The table of detection delays in docs/guard-internals.md ("Thresholds and sampling"), computed from the bound itself.
 * A test compares it with that file; `npx ts-node test/support/sampling-table.ts` prints it to paste there. For a rule of 100
 * requests per minute.
 */
export function delayTable(): string {
  const threshold = 100;
  const windowSeconds = 60;
  const multiples = [1, 2, 5, 10];
  const lines = [
    `| Sampling | Blocks at (logged requests in a window) | False blocks per client-day at 70% | ${multiples.map((m) => `${m}×`).join(' | ')} |`,
    `|---|---|---|${multiples.map(() => '---').join('|')}|`,
  ];
  for (const rate of [1, 5, 10, 25, 50, 100]) {
    const k = loggedThreshold(threshold, rate, windowSeconds);
    const falseBlocks = falseBlocksPerClientDay(threshold, rate, windowSeconds);
    const cells = multiples.map((m) => duration(detectionDelayMs(threshold, rate, windowSeconds, m)));
    const refused = samplingProblem(threshold, rate, windowSeconds) === undefined ? '' : ' (refused: see below)';
    lines.push(`| ${rate}%${refused} | ${k} | ${falseBlocks === 0 ? '0' : `1 in ${Math.round(1 / falseBlocks).toLocaleString('en-US')}`} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  const seconds = Math.ceil(ms / 1000);
  if (seconds <= 90) return `${seconds} s`;
  if (seconds <= 90 * 60) return `${Math.ceil(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

if (require.main === module) console.log(delayTable());
