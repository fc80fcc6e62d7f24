import { ConfigError, CredentialsConfig } from './connection';

/** What the Elasticsearch client's `auth` option takes. */
export type ElasticAuth = { readonly username: string; readonly password: string } | { readonly apiKey: string };

/**
 * Reads the credentials out of the secret's string. Messages name the secret's keys, never their values.
 * An API key secret may be JSON (`{"apiKey": "..."}`) or the bare encoded key.
 */
export function parseCredentials(secretString: string | undefined, config: CredentialsConfig): ElasticAuth {
  if (!secretString) {
    throw new ConfigError(`secret ${config.secretArn} has no string value: store the credentials as its secret string (a binary secret is not read)`);
  }
  let json: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(secretString);
    json = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    json = undefined;
  }
  const field = (key: string): string => {
    const v = json?.[key];
    if (typeof v !== 'string' || v === '') {
      throw new ConfigError(`secret ${config.secretArn} has no non-empty string "${key}" in its JSON value`);
    }
    return v;
  };
  if (config.kind === 'apiKey') {
    if (json === undefined) return { apiKey: secretString.trim() };
    return { apiKey: field(config.apiKeyKey ?? 'apiKey') };
  }
  return { username: field(config.usernameKey ?? 'username'), password: field(config.passwordKey ?? 'password') };
}

/**
 * Keeps the secret between invocations of a warm function: one Secrets Manager call per `ttlMs` instead of one per run.
 * `invalidate()` after an authentication failure makes the next run read a rotated secret at once.
 */
export class CachedValue<T> {
  private value?: T;
  private fetchedAt = 0;

  constructor(
    private readonly fetch: () => Promise<T>,
    private readonly ttlMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  async get(): Promise<T> {
    const now = this.clock();
    if (this.value === undefined || now - this.fetchedAt >= this.ttlMs) {
      this.value = await this.fetch();
      this.fetchedAt = now;
    }
    return this.value;
  }

  invalidate(): void {
    this.value = undefined;
  }
}
