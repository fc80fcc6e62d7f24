/** One rule on api.example.com and single log lines for it: what the client-address tests (proxies, IPv6) share. */
import { deliveredFieldOrder } from '../../src/realtime-waf-guard/log-fields';
import { StoredRule } from '../../src/realtime-waf-guard/rule-model';
import { CidrSet, parseCidrList } from '../../src/realtime-waf-guard/runtime/ip';
import { logLine } from '../support/log-lines';

export const fields = deliveredFieldOrder([]);
export const rule: StoredRule = { ruleId: 'api', host: 'api.example.com', threshold: 100, windowSeconds: 60, blockSeconds: 600, action: 'BLOCK', enabled: true };
export const none = new CidrSet([]);
export const cidrs = (...c: string[]) => new CidrSet(parseCidrList(c, 'test'));
/** A request to api.example.com from `ip`, with an X-Forwarded-For header if `xff` is given. */
export const line = (ip: string, xff?: string) =>
  logLine(fields, { 'timestamp': '1700000000.000', 'c-ip': ip, 'cs-host': 'api.example.com', 'cs-uri-stem': '/x', 'x-forwarded-for': xff ?? '-' });
