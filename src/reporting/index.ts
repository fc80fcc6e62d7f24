export * from './reporting-props';
export * from './waf-reporting';
