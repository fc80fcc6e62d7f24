export * from './realtime-waf-guard';
export * from './elastic-monitoring';
export * from './reporting';
