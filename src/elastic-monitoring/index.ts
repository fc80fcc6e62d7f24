export * from './apdex-definition';
export * from './debug-checks-options';
export * from './document-fields';
export * from './elastic-credentials';
export * from './elastic-waf-metrics';
export * from './elastic-waf-monitor';
export * from './elastic-waf-monitor-props';
export * from './monitor-alarm-options';
