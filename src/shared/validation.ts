/**
 * Prop checks shared by the constructs, so one rule gives one answer everywhere. Pure (no AWS imports): callers that
 * must skip CDK tokens pass their own predicate.
 */

// Deliberately loose: SNS confirms every address by email; this only catches names, ARNs, lists and typos without "@".
const EMAIL_ADDRESS = /^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$/;

/** Whether `value` looks like one email address (name@example.com). */
export function isEmailAddress(value: string): boolean {
  return EMAIL_ADDRESS.test(value);
}

/**
 * One message per entry of `emails` that is not an email address, naming the prop and index.
 * @param skip values to leave unchecked, e.g. CDK tokens that resolve only at deployment
 */
export function emailAddressErrors(
  prop: string,
  emails: readonly string[] | undefined,
  skip: (value: string) => boolean = () => false,
): string[] {
  const errors: string[] = [];
  (emails ?? []).forEach((email, index) => {
    if (!skip(email) && !isEmailAddress(email)) {
      errors.push(`${prop}[${index}] "${email}" does not look like an email address (name@example.com)`);
    }
  });
  return errors;
}

// CloudWatch namespaces: the characters PutMetricData documents (space left out: it breaks SEARCH expressions), and the
// CloudFormation schema's `[^:].*` (no leading colon); `AWS/` is reserved for AWS services.
const METRIC_NAMESPACE = /^[A-Za-z0-9._\-/#][A-Za-z0-9._\-/#:]{0,254}$/;

/** Why a CloudWatch namespace is unusable, or undefined when it is fine. */
export function metricNamespaceError(prop: string, namespace: string): string | undefined {
  if (METRIC_NAMESPACE.test(namespace) && !namespace.startsWith('AWS/')) return undefined;
  return `${prop} must be 1-255 of A-Z a-z 0-9 . _ - / # : (not starting with ":") and not start with "AWS/", got "${namespace}"`;
}

// CloudWatch dashboard names (PutDashboard): letters, digits, "-" and "_", at most 255.
const DASHBOARD_NAME = /^[A-Za-z0-9_-]{1,255}$/;

/** Why a dashboard name is unusable, or undefined when it is fine. */
export function dashboardNameError(prop: string, name: string): string | undefined {
  return DASHBOARD_NAME.test(name) ? undefined : `${prop} must be 1-255 of A-Z a-z 0-9 - _, got "${name}"`;
}
