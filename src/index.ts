export * from './realtime-waf-guard';
