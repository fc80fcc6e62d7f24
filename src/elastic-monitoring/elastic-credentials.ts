import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

/** How the collector authenticates to Elasticsearch. */
export enum ElasticCredentialsKind {
  /** HTTP basic authentication with a user name and password. */
  BASIC_AUTH = 'basic',
  /** An Elasticsearch API key (`Authorization: ApiKey ...`). */
  API_KEY = 'apiKey',
}

/** JSON keys of a basic-auth secret. */
export interface BasicAuthSecretOptions {
  /**
   * Key of the user name in the secret's JSON value.
   * @default 'username'
   */
  readonly usernameKey?: string;
  /**
   * Key of the password in the secret's JSON value.
   * @default 'password'
   */
  readonly passwordKey?: string;
}

/** Where the API key sits in the secret. */
export interface ApiKeySecretOptions {
  /**
   * Key of the encoded API key when the secret's value is JSON. A secret whose value is not JSON is taken as the key
   * itself.
   * @default 'apiKey'
   */
  readonly apiKeyKey?: string;
}

/**
 * Credentials for Elasticsearch, always in Secrets Manager: the collector reads the secret at run time (and caches it
 * for a few minutes), so no credential is ever written into the function's configuration or the template.
 */
export class ElasticCredentials {
  /** User name and password stored as JSON, e.g. `{"username":"waf-monitor","password":"..."}`. */
  public static basicAuth(secret: secretsmanager.ISecret, options: BasicAuthSecretOptions = {}): ElasticCredentials {
    return new ElasticCredentials(
      secret,
      ElasticCredentialsKind.BASIC_AUTH,
      options.usernameKey ?? 'username',
      options.passwordKey ?? 'password',
    );
  }

  /** An API key stored as JSON (`{"apiKey":"..."}`) or as the bare encoded key. */
  public static apiKey(secret: secretsmanager.ISecret, options: ApiKeySecretOptions = {}): ElasticCredentials {
    return new ElasticCredentials(secret, ElasticCredentialsKind.API_KEY, undefined, undefined, options.apiKeyKey ?? 'apiKey');
  }

  /** The secret the collector is allowed to read, and nothing else. */
  public readonly secret: secretsmanager.ISecret;
  /** Basic auth or API key: how the collector reads the secret and authenticates. */
  public readonly kind: ElasticCredentialsKind;
  /** JSON key of the user name, for basic authentication. */
  public readonly usernameKey?: string;
  /** JSON key of the password, for basic authentication. */
  public readonly passwordKey?: string;
  /** JSON key of the API key, for API-key authentication. */
  public readonly apiKeyKey?: string;

  private constructor(
    secret: secretsmanager.ISecret,
    kind: ElasticCredentialsKind,
    usernameKey?: string,
    passwordKey?: string,
    apiKeyKey?: string,
  ) {
    for (const [name, value] of Object.entries({ usernameKey, passwordKey, apiKeyKey })) {
      if (value !== undefined && value.trim() === '') {
        throw new Error(`ElasticCredentials: ${name} must not be empty; leave it out to use the default`);
      }
    }
    this.secret = secret;
    this.kind = kind;
    this.usernameKey = usernameKey;
    this.passwordKey = passwordKey;
    this.apiKeyKey = apiKeyKey;
  }
}
