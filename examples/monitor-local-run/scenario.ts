/**
 * Three and a half hours of a WAF's life, replayed against the monitor without AWS: the collector's real code runs every
 * 5 minutes against the document-backed cluster fake (served over HTTP as Elasticsearch 8), its EMF lines become
 * datapoints when they are written, and the alarms of a synthesized monitor are evaluated every minute by CloudWatch's
 * documented rules (`alarm-model.ts`). What happens, by document time:
 *
 * - all along: 24 requests a minute at 5-20 ms, one in 40 blocked;
 * - 10:30-11:00: one request of 241 s every 5 minutes (a hung upstream), which must page nobody;
 * - 11:00-11:20: 15 % of the answers are 503s;
 * - 11:40-12:15: the log pipeline is dead: no documents arrive;
 * - runs 12:42-12:47: a primary shard is lost (cluster red);
 * - runs 13:02-13:12: the cluster cannot be reached.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AlarmSpec, AlarmState, MetricStore, alarmValue, alarmsFromTemplate, evaluateAlarm } from './alarm-model';
import { ElasticCredentials, ElasticWafMonitor, ElasticWafMonitorProps } from '../../src';
import { COLLECTOR_CONFIG_ENV, CollectorConfig } from '../../src/elastic-monitoring/runtime/config';
import { Log } from '../../src/shared/runtime/telemetry';
import { WafDoc, clusterOf, wafDoc } from '../../test/elastic-monitoring/es-fixtures';
import { MockCluster, collectOver, refused } from '../../test/elastic-monitoring/mock-cluster';

const MINUTE = 60_000;
const at = (hhmm: string) => Date.parse(`2026-11-21T${hhmm}:00Z`);

/** The phases above, as times. */
export const PHASES = {
  start: at('09:00'),
  /** The monitor has been running for half an hour before the replay starts to count state changes. */
  firstRun: at('09:32') + 30_000,
  printFrom: at('10:00'),
  lastRun: at('13:32') + 30_000,
  timeouts: [at('10:30'), at('11:00')],
  serverErrors: [at('11:00'), at('11:20')],
  deadPipeline: [at('11:40'), at('12:15')],
  clusterRed: [at('12:40'), at('12:50')],
  unreachable: [at('13:00'), at('13:15')],
} as const;

const within = (t: number, [from, to]: readonly number[]) => t >= from && t < to;

/** The documents of one minute, deterministic. */
function minuteDocs(minute: number): WafDoc[] {
  if (within(minute, PHASES.deadPipeline)) return [];
  const docs: WafDoc[] = [];
  for (let i = 0; i < 24; i++) {
    const n = minute / MINUTE + i;
    const time = new Date(minute + i * 2_500);
    const latency = 5 + ((n * 7919) % 16);
    const status = n % 40 === 0 ? 'blocked' : 'allowed';
    const code = within(minute, PHASES.serverErrors) && i % 7 === 0 ? 503 : 200;
    docs.push(wafDoc(time, latency, status, `shop${n % 4}.example.com`, { code }));
  }
  if (within(minute, PHASES.timeouts) && (minute / MINUTE) % 5 === 0) {
    docs.push(wafDoc(new Date(minute + 30_000), 241_000, 'allowed', 'shop0.example.com'));
  }
  return docs;
}

/** The default monitor as a user's app synthesizes it: its alarms and the collector's configuration. */
export function synthesizedMonitor(
  clusterName = 'waf-prod', props: Partial<ElasticWafMonitorProps> = {},
): { readonly config: CollectorConfig; readonly alarms: readonly AlarmSpec[] } {
  const stack = new Stack(new App(), 'Monitoring', { env: { account: '111111111111', region: 'eu-west-1' } });
  const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'EsSecret', 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:es-AbCdEf');
  new ElasticWafMonitor(stack, 'WafHealth', {
    endpoint: 'https://waf-logs.es.example.com:9243',
    credentials: ElasticCredentials.basicAuth(secret),
    indexPattern: 'waf-logs-*',
    clusterName,
    ...props,
  });
  const template = Template.fromStack(stack);
  const [fn] = Object.values(template.findResources('AWS::Lambda::Function', {
    Properties: { Environment: { Variables: { [COLLECTOR_CONFIG_ENV]: Match.anyValue() } } },
  }));
  return {
    config: JSON.parse(fn.Properties.Environment.Variables[COLLECTOR_CONFIG_ENV]),
    alarms: alarmsFromTemplate(template.toJSON()),
  };
}

export interface Transition {
  readonly at: Date;
  /** The alarm's construct id, e.g. FreshnessAlarm. */
  readonly alarm: string;
  readonly from: AlarmState;
  readonly to: AlarmState;
  /** The alarm's value for the newest period that had one, for the printout. */
  readonly value?: number;
}

export interface ScenarioResult {
  readonly transitions: readonly Transition[];
  readonly runs: number;
  readonly alarms: number;
}

/** The construct id of an alarm from its logical id (`WafHealthAlarmsFreshnessAlarm1A2B3C4D` → `FreshnessAlarm`). */
export function alarmId(logicalId: string): string {
  return logicalId.replace(/^WafHealthAlarms/, '').replace(/[0-9A-F]{8}$/, '');
}

const quiet: Log = { info: () => {}, warn: () => {}, error: () => {} };

/** Runs the scenario and returns every alarm state change, in order. */
export async function runMonitorScenario(onTransition?: (t: Transition) => void): Promise<ScenarioResult> {
  const { config, alarms } = synthesizedMonitor();
  const store = new MetricStore();
  const states = new Map<string, AlarmState>(alarms.map((a) => [a.logicalId, 'OK']));
  const transitions: Transition[] = [];
  const docs: WafDoc[] = [];
  let documentsUpTo = PHASES.start;
  let runs = 0;
  for (let now = PHASES.firstRun - 30_000; now <= PHASES.lastRun + 2 * MINUTE + 30_000; now += MINUTE / 2) {
    // Documents are searchable a few seconds after their time.
    for (; documentsUpTo + MINUTE <= now; documentsUpTo += MINUTE) docs.push(...minuteDocs(documentsUpTo));
    if (now >= PHASES.firstRun && now <= PHASES.lastRun && (now - PHASES.firstRun) % (5 * MINUTE) === 0) {
      runs++;
      const red = within(now, PHASES.clusterRed);
      const cluster = new MockCluster().serve(clusterOf(docs, red ? { failedShards: [0] } : {}));
      if (within(now, PHASES.unreachable)) {
        cluster.onMsearch(() => refused('10.0.3.7:9243')).onNodesStats(() => refused('10.0.3.7:9243')).onClusterHealth(() => refused('10.0.3.7:9243'));
      }
      await collectOver(cluster, { config, now: new Date(now), logger: quiet, writeEmf: (line) => store.addEmfLine(line, now) });
    }
    if (now % MINUTE !== 0) continue;
    for (const alarm of alarms) {
      const previous = states.get(alarm.logicalId)!;
      const state = evaluateAlarm(alarm, store, now, previous);
      if (state === previous) continue;
      states.set(alarm.logicalId, state);
      if (now < PHASES.printFrom) continue;
      const transition = { at: new Date(now), alarm: alarmId(alarm.logicalId), from: previous, to: state, value: newestValue(alarm, store, now) };
      transitions.push(transition);
      onTransition?.(transition);
    }
  }
  return { transitions, runs, alarms: alarms.length };
}

function newestValue(alarm: AlarmSpec, store: MetricStore, now: number): number | undefined {
  const period = alarm.periodSeconds * 1000;
  for (let start = Math.floor(now / period) * period - period; start > now - 6 * period; start -= period) {
    const value = alarmValue(alarm, store, start, now);
    if (value !== undefined) return value;
  }
  return undefined;
}
