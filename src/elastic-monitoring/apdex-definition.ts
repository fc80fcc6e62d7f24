/**
 * Which requests Apdex counts and where the bounds fall. Apdex(T) = (satisfied + tolerating / 2) / total either way.
 */
export enum ApdexDefinition {
  /**
   * Every request with a latency, whatever the WAF decided: satisfied <= T < tolerating <= 4T < frustrated (the Apdex
   * specification's bounds).
   */
  ALL_REQUESTS = 'ALL_REQUESTS',
  /**
   * Allowed requests only, because blocked and alerted ones say nothing about what users of the site experience:
   * satisfied < T <= tolerating < 4T <= frustrated (the bounds of the thesis the monitor's requirements come from).
   */
  ALLOWED_REQUESTS = 'ALLOWED_REQUESTS',
}
