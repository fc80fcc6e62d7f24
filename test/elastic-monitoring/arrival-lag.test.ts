/**
 * Each run stamps its EMF at the start of the last interval of its window, and the window ends `ingestDelay` (rounded
 * down to the interval) before the run: a datapoint arrives ingestDelay + one to two intervals after the start of its
 * period. CloudWatch reads only the last EvaluationPeriods + 2 periods at each evaluation (alarm-model.ts); an alarm
 * treating missing data as breaching (TrafficFloor, CollectorErrors) whose range never holds an arrived datapoint sits
 * in ALARM on a healthy cluster. Evaluated every minute with arrival times, as the local scenario does.
 */
import { Duration } from 'aws-cdk-lib';
import { WafDoc, clusterOf, nodeStats, nodesStatsBody, wafDoc } from './es-fixtures';
import { MockCluster, collectOver } from './mock-cluster';
import { AlarmSpec, MetricStore, evaluateAlarm } from '../../examples/monitor-local-run/alarm-model';
import { alarmId, synthesizedMonitor } from '../../examples/monitor-local-run/scenario';
import { ElasticWafMonitorProps } from '../../src';
import { CollectorConfig } from '../../src/elastic-monitoring/runtime/config';
import { Log } from '../../src/shared/runtime/telemetry';

const MINUTE = 60_000;
const quiet: Log = { info: () => {}, warn: () => {}, error: () => {} };
const nodes = nodesStatsBody({ n1: nodeStats('es-1', 20, 40, 1000, 800) });
const START = Date.parse('2026-11-21T06:00:00Z');

/** Two requests a minute, from START on. */
function docsUpTo(until: number): WafDoc[] {
  const docs: WafDoc[] = [];
  for (let t = START; t < until; t += 30_000) docs.push(wafDoc(new Date(t), 12, 'allowed', 'shop.example.com'));
  return docs;
}

/**
 * A healthy cluster watched for `hours`: the collector runs every interval (`offsetMs` after the boundary, as a rate
 * schedule may), its EMF lines arrive when written, and every alarm treating missing data as breaching is evaluated
 * every minute for `hours` once the first datapoints could have reached its range. Returns the alarms that left OK, with when.
 */
async function alarmsOnHealthyCluster(config: CollectorConfig, alarms: readonly AlarmSpec[], hours: number, offsetMs: number) {
  const watched = alarms.filter((a) => a.treatMissingData === 'breaching');
  expect(watched.map((a) => alarmId(a.logicalId)).sort()).toEqual(['CollectorErrorsAlarm', 'TrafficFloorAlarm']);
  const store = new MetricStore();
  const firstRun = START + 2 * 3_600_000 + offsetMs;
  // The collector has run for ingestDelay + 2 intervals + the longest evaluation range before anything is judged.
  const judgeFrom = firstRun + config.ingestDelayMs + 2 * config.intervalMs
    + Math.max(...watched.map((a) => (a.evaluationPeriods + 2) * a.periodSeconds * 1000));
  const end = judgeFrom + hours * 3_600_000;
  let judged = 0;
  const raised: string[] = [];
  let nextRun = firstRun;
  for (let now = firstRun - offsetMs; now <= end; now += MINUTE / 2) {
    if (now === nextRun) {
      nextRun += config.intervalMs;
      const cluster = new MockCluster().serve(clusterOf(docsUpTo(now))).onNodesStats(() => nodes);
      await collectOver(cluster, { config, now: new Date(now), logger: quiet, writeEmf: (line) => store.addEmfLine(line, now + 5_000) });
    }
    if (now % MINUTE !== 0 || now < judgeFrom) continue;
    judged++;
    for (const alarm of watched) {
      const state = evaluateAlarm(alarm, store, now, 'OK');
      if (state !== 'OK') raised.push(`${alarmId(alarm.logicalId)} ${state} at ${new Date(now).toISOString()}`);
    }
  }
  expect(judged).toBeGreaterThanOrEqual(hours * 60);
  return raised;
}

describe('datapoints arrive ingestDelay + one to two intervals after their period starts', () => {
  test('why a long ingestDelay is refused: a collector waiting 60 minutes leaves TrafficFloor and CollectorErrors of the default alarms in ALARM on a healthy cluster', async () => {
    // The alarms of a monitor with the default 1-minute delay, fed by a collector that waits 60 minutes.
    const { config, alarms } = synthesizedMonitor();
    const raised = await alarmsOnHealthyCluster({ ...config, ingestDelayMs: 60 * MINUTE }, alarms, 1, 30_000);
    expect(raised.some((r) => r.startsWith('TrafficFloorAlarm ALARM'))).toBe(true);
    expect(raised.some((r) => r.startsWith('CollectorErrorsAlarm ALARM'))).toBe(true);
  }, 120_000);

  test('ingestDelay 60 minutes with the default alarms fails at synth, saying why and what to change', () => {
    expect(() => synthesizedMonitor('waf-prod', { ingestDelay: Duration.minutes(60) })).toThrow(
      /ingestDelay \(60 minutes\) is too long for alarms.collectorErrors.*70 minutes.*2 \+ 2 periods.*lower ingestDelay to at most 5 minutes, or raise alarms.collectorErrors.evaluationPeriods to at least 13/s,
    );
    expect(() => synthesizedMonitor('waf-prod', { ingestDelay: Duration.minutes(60) })).toThrow(/alarms.trafficFloor.evaluationPeriods to at least 13/);
  });

  const accepted: ReadonlyArray<[string, Partial<ElasticWafMonitorProps>, number]> = [
    ['defaults (1 minute, every 5 minutes)', {}, 30_000],
    ['the longest delay the defaults accept (5 minutes, every 5 minutes), run late in the interval', { ingestDelay: Duration.minutes(5) }, 270_000],
    ['a 15-minute delay every 10 minutes with traffic floor over 3 and collector errors over 3 periods', {
      ingestDelay: Duration.minutes(15), collectionInterval: Duration.minutes(10), alarms: { collectorErrors: { evaluationPeriods: 3 } },
    }, 30_000],
    ['a 60-minute delay every 5 minutes with both alarms raised to 13 periods', {
      ingestDelay: Duration.minutes(60), alarms: { trafficFloor: { evaluationPeriods: 13 }, collectorErrors: { evaluationPeriods: 13 } },
    }, 150_000],
    ['a 20-minute delay every 5 minutes with 15-minute alarm periods', { ingestDelay: Duration.minutes(20), alarms: { period: Duration.minutes(15) } }, 30_000],
  ];

  test.each(accepted)('a synthesized monitor with %s: no alarm on a healthy cluster', async (_name, props, offsetMs) => {
    const { config, alarms } = synthesizedMonitor('waf-prod', props);
    expect(await alarmsOnHealthyCluster(config, alarms, 2, offsetMs)).toEqual([]);
  }, 180_000);
});
