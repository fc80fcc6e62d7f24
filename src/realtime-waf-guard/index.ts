export * from './realtime-waf-guard';
export * from './realtime-waf-guard-props';
export { RuleAction } from './host-rule';
export type { HostRule } from './host-rule';
export type { ManagedRuleGroup, RateBasedBackstop } from './waf-rules';
export { Counting } from './counting';
export { Detection } from './timestream-options';
export type { TimestreamOptions } from './timestream-options';
