/**
 * `npm run demo`: the guard end to end on this machine, no AWS account needed. Options:
 *   --duration <s>  seconds of traffic (default 20)    --rate <n>  background requests per second (default 500)
 *   --sampling <%>  real-time log sampling (default 100) --seed <n>  traffic seed (default 42)
 * Exits 1 when the outcome is wrong (an attacker not blocked or released on time, or someone blocked below threshold).
 */
import { formatSummary, runDemo } from './run-demo';

function parseArgs(argv: readonly string[]): { durationSeconds?: number; rate?: number; samplingRate?: number; seed?: number } {
  const names: Record<string, 'durationSeconds' | 'rate' | 'samplingRate' | 'seed'> = {
    '--duration': 'durationSeconds', '--rate': 'rate', '--sampling': 'samplingRate', '--seed': 'seed',
  };
  const out: Record<string, number> = {};
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=');
    const key = names[flag];
    const value = Number(inline ?? argv[++i]);
    if (!key || !Number.isFinite(value)) {
      throw new Error(`usage: npm run demo -- [--duration 20] [--rate 500] [--sampling 100] [--seed 42] (got ${argv.join(' ')})`);
    }
    out[key] = value;
  }
  return out;
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const tty = process.stdout.isTTY;
  let lastProgress = 0;
  const outcome = await runDemo({
    ...options,
    progress: (line) => {
      // A live line on a terminal; an occasional one in a log.
      if (tty) {process.stdout.write(`\r${line.padEnd(110)}`);} else if (Date.now() - lastProgress >= 2000) {
        lastProgress = Date.now();
        process.stdout.write(`${line}\n`);
      }
    },
    onEmail: (text) => process.stdout.write(`${tty ? '\n' : ''}\n---- alert email ----\n${text}\n---------------------\n`),
  });
  process.stdout.write(`${formatSummary(outcome)}\n`);
  return outcome.ok ? 0 : 1;
}

main().then((code) => { process.exitCode = code; }, (e) => {
  process.stderr.write(`demo failed: ${(e as Error).message}\n`);
  process.exitCode = 2;
});
