/**
 * Handler bundles measured as Lambda runs them: each in a fresh `node` process (no ts-node, no test framework) with
 * the environment the construct sets, timing the module load (the cold-start init) and, for the LogProcessor, the
 * memory used while handling one large batch.
 */
import { execFile } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { promisify } from 'util';

export interface ProbeResult {
  readonly loadMs: number;
  readonly rssLoadedMb: number;
  readonly handlerMs?: number;
  readonly peakRssMb?: number;
  readonly peakHeapMb?: number;
  readonly rssBeforeHandlerMb?: number;
  readonly failures?: number;
  readonly error?: string;
}

/**
 * Runs in the child process, serialised with Function.prototype.toString: plain JavaScript, Node built-ins only.
 * It writes its result as JSON to `resultFile`.
 */
function probe(cfg: { bundle: string; eventFile?: string; resultFile: string }): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const fs = require('fs');
  const { performance } = require('perf_hooks');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const mb = (n: number) => Math.round((n / 1048576) * 10) / 10;
  const done = (result: Record<string, unknown>) => fs.writeFileSync(cfg.resultFile, JSON.stringify(result));
  const t0 = performance.now();
  let mod: { handler: (event: unknown) => Promise<{ batchItemFailures?: unknown[] } | undefined> };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(cfg.bundle);
  } catch (e) {
    done({ error: String((e as Error).message).split('\n')[0] });
    return;
  }
  const result: Record<string, unknown> = { loadMs: performance.now() - t0, rssLoadedMb: mb(process.memoryUsage().rss) };
  if (!cfg.eventFile) {
    done(result);
    return;
  }
  const event = JSON.parse(fs.readFileSync(cfg.eventFile, 'utf8'));
  result.rssBeforeHandlerMb = mb(process.memoryUsage().rss);
  let peakHeap = 0;
  const sample = () => {
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  };
  const timer = setInterval(sample, 2);
  const t1 = performance.now();
  mod.handler(event).then((res) => {
    clearInterval(timer);
    sample();
    result.handlerMs = performance.now() - t1;
    result.failures = res?.batchItemFailures?.length ?? 0;
    result.peakHeapMb = mb(peakHeap);
    // getrusage's high-water mark: the true peak, which sampling could miss during a synchronous loop.
    result.peakRssMb = Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
    done(result);
  }, (e: Error) => {
    clearInterval(timer);
    done({ error: e.message });
  });
}

/**
 * Runs `probe` for one bundle in a fresh process with `env` added to a minimal environment. Asynchronous, so that
 * local servers in this process keep serving the child.
 */
export async function runProbe(bundle: string, env: Record<string, string>, event?: unknown): Promise<ProbeResult> {
  const dir = mkdtempSync(join(tmpdir(), 'waf-guard-probe-'));
  try {
    const resultFile = join(dir, 'result.json');
    let eventFile: string | undefined;
    if (event !== undefined) {
      eventFile = join(dir, 'event.json');
      writeFileSync(eventFile, JSON.stringify(event));
    }
    const code = `(${probe.toString()})(${JSON.stringify({ bundle, eventFile, resultFile })})`;
    await promisify(execFile)(process.execPath, ['-e', code], {
      env: { PATH: process.env.PATH ?? '', NODE_NO_WARNINGS: '1', ...env },
      timeout: 120_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return JSON.parse(readFileSync(resultFile, 'utf8')) as ProbeResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function bundleSize(bundle: string): number {
  return statSync(bundle).size;
}
