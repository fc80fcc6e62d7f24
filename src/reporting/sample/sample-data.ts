/* eslint-disable no-bitwise -- a seeded PRNG and a string hash are bit operations */
import { Doc } from './memory-index';
import { AlarmStateChange } from '../runtime/alarm-summary';
import { CostLine } from '../runtime/costs';
import { HistoryRecord } from '../runtime/guard-summary';
import { dayPeriod, localTime, ReportPeriod } from '../runtime/period';

/**
 * Generated traffic of a small shop for `report --sample`: WAF documents (one per request) with a day's rhythm, a few
 * attacks, and the guard's history of the blocks those attacks caused, plus a month's AWS and Elastic Cloud bills.
 * Each local day is generated from its own seed, so a day's data is the same in the daily report and in its month's.
 */

/** The sample's time zone: daylight saving changes show as 23- and 25-hour days. */
export const SAMPLE_TIME_ZONE = 'Europe/Berlin';

/** Mulberry32: small, fast and good enough to make traffic look irregular; the same seed gives the same day. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function seedOf(text: string): number {
  let h = 2_166_136_261;
  for (const c of text) h = Math.imul(h ^ c.charCodeAt(0), 16_777_619);
  return h >>> 0;
}

interface Customer { readonly name: string; readonly weight: number; readonly hosts: readonly string[]; readonly slow?: boolean }

/** Customers with uneven traffic; names as customers type them (accents, an ampersand) to show they are escaped. */
const CUSTOMERS: readonly Customer[] = [
  { name: 'acme', weight: 30, hosts: ['shop.acme.example', 'api.acme.example', 'img.acme.example'] },
  { name: 'globex', weight: 18, hosts: ['www.globex.example', 'api.globex.example'] },
  { name: 'initech', weight: 12, hosts: ['www.initech.example'], slow: true },
  { name: 'Müller & Söhne GmbH', weight: 9, hosts: ['www.mueller-soehne.example'] },
  { name: 'umbrella', weight: 8, hosts: ['portal.umbrella.example', 'cdn.umbrella.example'] },
  { name: 'hooli', weight: 7, hosts: ['www.hooli.example'] },
  { name: 'stark-industries', weight: 6, hosts: ['store.stark.example'] },
  { name: 'wayne-enterprises', weight: 4, hosts: ['www.wayne.example'] },
  { name: 'pied-piper', weight: 3, hosts: ['app.piedpiper.example'] },
  { name: 'tyrell', weight: 2, hosts: ['www.tyrell.example'] },
  { name: 'cyberdyne', weight: 1, hosts: ['www.cyberdyne.example'] },
];

/** The guard's rules the attacks trip; `count` is a rule in COUNT mode (its offenders are "would block"). */
const RULES = [
  { id: 'login-burst', host: 'shop.acme.example', customer: 'acme', threshold: 100, windowSeconds: 60, blockMinutes: 15, count: false },
  { id: 'api-scrape', host: 'api.globex.example', customer: 'globex', threshold: 600, windowSeconds: 300, blockMinutes: 60, count: false },
  { id: 'search-flood', host: 'www.initech.example', customer: 'initech', threshold: 300, windowSeconds: 60, blockMinutes: 15, count: true },
] as const;

/** Attack sources; the first comes back every few days, so the month has repeat offenders. */
const ATTACKERS = ['203.0.113.66', '203.0.113.23', '198.51.100.140', '192.0.2.201', '2001:db8:bad:7::/64', '203.0.113.9'];

/** Requests per local hour, relative: quiet at night, a lunch bump and an evening peak. */
const DIURNAL = [2, 1.5, 1, 1, 1, 1.5, 3, 5, 7, 8, 8, 9, 10, 9, 8, 8, 8, 9, 10, 11, 10, 8, 5, 3];
/** Requests on an ordinary weekday; Saturday and Sunday are quieter. */
const DAY_REQUESTS = 2_400;

/** Ordinary visitors: a few hundred addresses, a handful of them heavy (offices behind NAT). */
function visitorIp(r: () => number): string {
  const x = r();
  if (x < 0.15) return `192.0.2.${1 + Math.floor(r() * 4)}`;
  if (x < 0.25) return `2001:db8:${(10 + Math.floor(r() * 40)).toString(16)}::${(1 + Math.floor(r() * 200)).toString(16)}`;
  return `198.51.100.${1 + Math.floor(r() * 120)}`;
}

function statusCode(r: () => number): number {
  const x = r();
  if (x < 0.86) return 200;
  if (x < 0.91) return 304;
  if (x < 0.95) return 404;
  if (x < 0.97) return 301;
  if (x < 0.985) return 403;
  if (x < 0.995) return 500;
  return 503;
}

/** Latency in ms, log-normal around a median, now and then very slow. */
function latency(r: () => number, median: number): number {
  const normal = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const ms = median * Math.exp(0.8 * normal) * (r() < 0.01 ? 20 : 1);
  return Math.max(1, Math.round(ms));
}

function document(at: number, customer: string, host: string, ip: string, status: number, latencyMs: number, r: () => number): Doc {
  return {
    '@timestamp': new Date(at).toISOString(),
    'waf': { customer, latency_ms: latencyMs, status: status === 403 ? 'blocked' : 'allowed' },
    'url': { domain: host },
    'client': { ip: ip.replace(/::\/64$/, '::1') },
    'http': { request: { bytes: 400 + Math.floor(r() * 1_600) }, response: { bytes: status === 304 ? 0 : 2_000 + Math.floor(r() * 120_000), status_code: status } },
  };
}

/** One local day of the sample: its documents (time order) and the guard's history rows. */
export interface SampleDay {
  readonly period: ReportPeriod;
  readonly docs: Doc[];
  readonly history: HistoryRecord[];
  /** State changes of the sample's alarms that day. */
  readonly alarms: AlarmStateChange[];
}

/** The alarms a deployed guard and monitor would hand the report; the latency one fires on some evenings. */
export const SAMPLE_ALARMS = ['Sample-Guard-LogProcessorErrors', 'Sample-Guard-IpSetNearCapacity', 'Sample-Monitor-LatencyP95', 'Sample-Monitor-Freshness'];

const days = new Map<string, SampleDay>();

/** The sample's day `label` (`YYYY-MM-DD` in {@link SAMPLE_TIME_ZONE}); generated once per process. */
export function sampleDay(label: string): SampleDay {
  const known = days.get(label);
  if (known) return known;
  const period = dayPeriod(label, SAMPLE_TIME_ZONE);
  const r = random(seedOf(label));
  const start = period.start.getTime();
  const hours = Math.round((period.end.getTime() - start) / 3_600_000);
  const weekday = new Date(`${label}T12:00:00Z`).getUTCDay();
  const volume = DAY_REQUESTS * (weekday === 0 || weekday === 6 ? 0.6 : 1) * (0.9 + 0.2 * r());
  const weights = Array.from({ length: hours }, (_, h) => DIURNAL[localTime(new Date(start + h * 3_600_000), SAMPLE_TIME_ZONE).hour]);
  const weightSum = weights.reduce((s, w) => s + w, 0);
  const customerWeight = CUSTOMERS.reduce((s, c) => s + c.weight, 0);
  const docs: Doc[] = [];
  for (let h = 0; h < hours; h++) {
    const n = Math.round(volume * weights[h] / weightSum);
    for (let i = 0; i < n; i++) {
      let pick = r() * customerWeight;
      const customer = CUSTOMERS.find((c) => (pick -= c.weight) < 0) ?? CUSTOMERS[0];
      const host = customer.hosts[Math.floor(r() * customer.hosts.length)];
      const at = start + h * 3_600_000 + Math.floor(r() * 3_600_000);
      docs.push(document(at, customer.name, host, visitorIp(r), statusCode(r), latency(r, customer.slow ? 45 : 14), r));
    }
  }

  // Attacks: a burst on one rule's host, blocked when the rule's threshold is crossed (403 afterwards).
  const history: HistoryRecord[] = [];
  const attacks = 1 + Math.floor(r() * 4);
  const dayIndex = Math.floor(start / 86_400_000);
  for (let a = 0; a < attacks; a++) {
    const rule = RULES[Math.floor(r() * RULES.length)];
    const ip = a === 0 && dayIndex % 3 === 0 ? ATTACKERS[0] : ATTACKERS[1 + Math.floor(r() * (ATTACKERS.length - 1))];
    const begin = start + Math.floor(r() * (hours - 2) * 3_600_000);
    const requests = Math.round(rule.threshold / 5 * (1.5 + r()));
    const minutes = 2 + Math.floor(r() * 6);
    // Requests are sampled documents: the guard counts at 20%, so a document stands for five requests.
    const crossing = begin + Math.floor(minutes * 60_000 * 0.6);
    for (let i = 0; i < requests; i++) {
      const at = begin + Math.floor((i / requests) * minutes * 60_000);
      const blocked = !rule.count && at >= crossing;
      docs.push(document(at, rule.customer, rule.host, ip, blocked ? 403 : (r() < 0.7 ? 401 : 200), latency(r, 9), r));
    }
    const observed = rule.threshold + 1 + Math.floor(r() * rule.threshold * 0.4);
    const base = { ip, ruleId: rule.id, host: rule.host, threshold: rule.threshold, windowSeconds: rule.windowSeconds, observed };
    if (rule.count) {
      history.push({ ...base, at: crossing, event: 'WOULD_BLOCK', action: 'COUNT' });
      continue;
    }
    const until = crossing + rule.blockMinutes * 60_000;
    history.push({ ...base, at: crossing, event: 'BLOCKED', action: 'BLOCK', blockedAt: crossing, blockedUntil: until });
    // A block ending after midnight is released on the next day's history, as the guard would write it.
    if (until < period.end.getTime()) history.push({ ...base, at: until, event: 'RELEASED', action: 'BLOCK', blockedAt: crossing, blockedUntil: until });
  }
  // Evening peaks now and then slow a customer's origin down for a while: the latency alarm goes off and back.
  const alarms: AlarmStateChange[] = [];
  if (r() < 0.5) {
    const at = start + Math.floor((18 + r() * 3) * 3_600_000);
    const name = SAMPLE_ALARMS[2];
    alarms.push({ name, at, from: 'OK', to: 'ALARM' }, { name, at: at + (10 + Math.floor(r() * 30)) * 60_000, from: 'ALARM', to: 'OK' });
  }
  const day = { alarms, period, docs: docs.sort((x, y) => String(x['@timestamp']).localeCompare(String(y['@timestamp']))), history };
  days.set(label, day);
  return day;
}

/** Local day labels overlapping [from, to). */
function labelsBetween(from: Date, to: Date): string[] {
  const labels: string[] = [];
  for (let t = from.getTime(); t < to.getTime(); t += 3_600_000) {
    const l = localTime(new Date(t), SAMPLE_TIME_ZONE);
    const label = `${l.year}-${String(l.month).padStart(2, '0')}-${String(l.day).padStart(2, '0')}`;
    if (labels[labels.length - 1] !== label) labels.push(label);
  }
  return labels;
}

/** Every sample document in [from, to). */
export function sampleDocuments(from: Date, to: Date): Doc[] {
  return labelsBetween(from, to).flatMap((label) => sampleDay(label).docs)
    .filter((d) => {
      const t = Date.parse(String(d['@timestamp']));
      return t >= from.getTime() && t < to.getTime();
    });
}

/** The guard's history rows in [from, to). */
export function sampleHistory(from: Date, to: Date): HistoryRecord[] {
  // A release belongs to the day its block ended in: also read the day before.
  const before = new Date(from.getTime() - 86_400_000);
  return labelsBetween(before, to).flatMap((label) => sampleDay(label).history)
    .filter((h) => h.at >= from.getTime() && h.at < to.getTime());
}

/** A month's bills: AWS by service (USD) and Elastic Cloud by line (ECU), varying a little from month to month. */
export function sampleCosts(month: string): { aws: CostLine[]; elastic: CostLine[] } {
  const r = random(seedOf(`costs ${month}`));
  const vary = (amount: number) => Math.round(amount * (0.92 + 0.16 * r()) * 10_000) / 10_000;
  const aws = ([
    ['Amazon CloudFront', 412.3117], ['AWS WAF', 38.2], ['Amazon Kinesis', 21.9604], ['AmazonCloudWatch', 9.8731],
    ['AWS Lambda', 3.1187], ['Amazon DynamoDB', 2.0412], ['Amazon Simple Storage Service', 0.4123], ['Amazon Simple Email Service', 0.0931],
  ] as const).map(([item, amount]): CostLine => ({ source: 'AWS', item, amount: vary(amount) }));
  const elastic = ([['Hot storage (gcp.es.datahot)', 512.25], ['Data transfer', 31.7]] as const)
    .map(([item, amount]): CostLine => ({ source: 'Elastic Cloud', item, amount: vary(amount) }));
  return { aws, elastic };
}

/** The sample's alarm changes in [from, to). */
export function sampleAlarmChanges(from: Date, to: Date): AlarmStateChange[] {
  return labelsBetween(from, to).flatMap((label) => sampleDay(label).alarms).filter((a) => a.at >= from.getTime() && a.at < to.getTime());
}
