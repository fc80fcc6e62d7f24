/**
 * Removes credentials from text a server sent before it is printed or put in a custom resource's reason: servers and
 * proxies may echo the request's headers in an error page, and that text reaches terminals, logs and CloudFormation
 * events, which more people read than the secret.
 */

/** What replaces a credential. */
export const REDACTED = '[redacted]';

/** Shortest secret value replaced wherever it occurs: a shorter one would garble ordinary words and reveal little. */
const MIN_SECRET_LENGTH = 4;

// Each expression starts at a literal scheme or header name and then reads one character class: linear in the text,
// whatever a server sends (see redactUrlCredentials for a quadratic one that hurt).
const SCHEMES = /\b(Basic|ApiKey|Bearer)([^\S\r\n]+)[^\s"',;<>\\]+/gi;
const SIGV4 = /\b(AWS4-HMAC-SHA256)([^\S\r\n]+)[^"'\r\n<>\\]+/gi;
const SECURITY_TOKEN = /\b(x-amz-security-token)(["']?[^\S\r\n]*[:=][^\S\r\n]*["']?)[^\s"',;<>\\]+/gi;

/**
 * The text with the values of the Authorization schemes Basic, ApiKey, Bearer and AWS4-HMAC-SHA256, any
 * x-amz-security-token, and each of `secrets` (at least 4 characters long) replaced by `[redacted]`.
 */
export function redactCredentials(text: string, secrets: readonly string[] = []): string {
  let out = text;
  // Longest first, so a password inside `user:password` does not leave the rest of the pair behind.
  for (const secret of [...new Set(secrets)].filter((s) => s.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length)) {
    out = out.split(secret).join(REDACTED);
  }
  return out
    .replace(SCHEMES, `$1$2${REDACTED}`)
    .replace(SIGV4, `$1$2${REDACTED}`)
    .replace(SECURITY_TOKEN, `$1$2${REDACTED}`);
}

/**
 * The secret values a request's headers carry, to redact wherever they appear, also decoded: the Authorization
 * token, a Basic token's `user:password` and password, an API key's decoded `id:key` and key, a session token.
 */
export function credentialsInHeaders(headers: Readonly<Record<string, string | undefined>>): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (lower === 'x-amz-security-token') out.push(value);
    if (lower !== 'authorization') continue;
    // The token, not the whole value: the scheme left in place says which credential was redacted.
    const space = value.indexOf(' ');
    const [scheme, token] = space < 0 ? ['', value] : [value.slice(0, space), value.slice(space + 1)];
    out.push(token);
    if (/^(basic|apikey)$/i.test(scheme)) {
      const decoded = Buffer.from(token, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon >= 0) out.push(decoded, decoded.slice(colon + 1));
    }
  }
  return out;
}
