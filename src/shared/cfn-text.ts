import { Token } from 'aws-cdk-lib';

/**
 * Free text that the library writes into CloudFormation properties with a pattern or length limit. Descriptions often
 * carry user input (construct paths, cluster names); a character outside the schema fails template validation at synth
 * (`@aws-cdk/core:validateAgainstDefaultRules`) or the deployment, so the text is fitted instead of trusted.
 */

// WAFv2 descriptions: `^[a-zA-Z0-9=:#@/\-,.][a-zA-Z0-9+=:#@/\-,.\s]+[a-zA-Z0-9+=:#@/\-,.]{1,256}$`.
const WAF_FIRST = /[a-zA-Z0-9=:#@/\-,.]/;
const WAF_LAST = /[a-zA-Z0-9+=:#@/\-,.]/;
const WAF_OTHER = /[^a-zA-Z0-9+=:#@/\-,.\s]/g;

/** Text for a WAFv2 `Description`: other characters become `-`, at most 256 characters. */
export function wafDescription(text: string): string {
  let fitted = text.replace(WAF_OTHER, '-').replace(/\s+/g, ' ').trim().slice(0, 256).trim();
  while (fitted.length > 0 && !WAF_FIRST.test(fitted[0])) fitted = fitted.slice(1);
  while (fitted.length > 0 && !WAF_LAST.test(fitted[fitted.length - 1])) fitted = fitted.slice(0, -1);
  return fitted.length >= 3 ? fitted : 'cdk-waf-guard';
}

// IAM role descriptions: `[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*`, at most 1,000 characters.
const IAM_OTHER = /[^\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]/g;

/** Text for an IAM role `Description`: characters outside printable Latin-1 become `?`. */
export function iamDescription(text: string): string {
  return limitLength(text.replace(IAM_OTHER, '?'), 1000);
}

/**
 * Text cut to `max` characters (Lambda descriptions 256, EventBridge rules 512, alarms 1,024), ending in `...` when
 * cut. Tokens pass unchanged: their length is unknown until deployment.
 */
export function limitLength(text: string, max: number): string {
  if (Token.isUnresolved(text) || text.length <= max) return text;
  return `${text.slice(0, max - 3)}...`;
}
