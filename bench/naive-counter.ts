import { isIP } from 'net';
import { StoredRule } from '../src/realtime-waf-guard/rule-model';
import { bucketMs } from '../src/realtime-waf-guard/runtime/detector';
import { clientOf, DEFAULT_IPV6_PREFIX_LENGTH, parseIp } from '../src/realtime-waf-guard/runtime/ip';

/**
 * The straightforward way to do the LogProcessor's parse + count, written for the benchmark's comparison: decode the
 * record, split the line on tabs, build an object with every field, then validate, match rules and count per
 * (rule, client, bucket). It does the same work as TrafficCounter and must reach the same counts.
 */
export class NaiveCounter {
  public readonly counts = new Map<string, Map<number, number>>();
  public matched = 0;
  public malformed = 0;

  constructor(private readonly fields: readonly string[], private readonly rules: readonly StoredRule[]) {}

  public addBase64(data: string): void {
    const line = Buffer.from(data, 'base64').toString('latin1').trim();
    const values = line.split('\t');
    if (values.length !== this.fields.length) {
      this.malformed++;
      return;
    }
    const record: Record<string, string | undefined> = {};
    for (let i = 0; i < this.fields.length; i++) record[this.fields[i]] = values[i] === '-' ? undefined : values[i];
    const timestamp = Number(record.timestamp);
    const ip = record['c-ip'];
    if (!/^\d{1,11}(\.\d+)?$/.test(record.timestamp ?? '') || !Number.isFinite(timestamp) || ip === undefined || isIP(ip) === 0) {
      this.malformed++;
      return;
    }
    const host = record['cs-host']?.toLowerCase();
    if (host === undefined) return;
    let path: string | undefined;
    let any = false;
    for (const rule of this.rules) {
      const hostOk = rule.host.startsWith('*.') ? host.endsWith(rule.host.slice(1)) : host === rule.host;
      if (!hostOk) continue;
      if (rule.pathPrefix !== undefined) {
        path ??= safeDecode(record['cs-uri-stem'] ?? '');
        if (!path.startsWith(rule.pathPrefix)) continue;
      }
      any = true;
      // An IPv6 client is its /64, as in production (IPv6 is a small share of the mix, so this costs the baseline little).
      const client = ip.includes(':') ? clientOf(parseIp(ip)!, DEFAULT_IPV6_PREFIX_LENGTH).text : ip;
      const key = `${rule.ruleId}|${client}`;
      let buckets = this.counts.get(key);
      if (!buckets) this.counts.set(key, (buckets = new Map()));
      const bucket = Math.floor(Math.round(timestamp * 1000) / bucketMs(rule.windowSeconds));
      buckets.set(bucket, (buckets.get(bucket) ?? 0) + 1);
    }
    if (any) this.matched++;
  }

  public reset(): void {
    this.counts.clear();
    this.matched = 0;
    this.malformed = 0;
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
