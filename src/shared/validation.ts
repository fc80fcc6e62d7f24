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
