import { Logger } from '@aws-lambda-powertools/logger';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { RunSummary, collect, reportFailedRun } from './runtime/collector';
import {
  COLLECTOR_CONFIG_ENV,
  CollectorConfig,
  ConfigError,
  CredentialsConfig,
  parseCollectorConfig,
  regionOfEndpoint,
  signingService,
} from './runtime/config';
import { collectorTransport, searchClient } from './runtime/elastic-client';
import {
  CredentialProvider,
  headerAuthenticator,
  sigV4Authenticator,
} from './runtime/request-auth';
import { Authenticate, SearchTransport } from './runtime/search-transport';
import { CachedValue, ElasticAuth, parseCredentials } from '../shared/runtime/elastic/credentials';
import { classifyError } from '../shared/runtime/elastic/problems';
import { Log, powertoolsLog } from '../shared/runtime/telemetry';

/** A rotated secret is picked up within this time, or at once after an authentication failure. */
const SECRET_TTL_MS = 10 * 60_000;

export interface CollectorHandlerDeps {
  readonly secretsManager: Pick<SecretsManagerClient, 'send'>;
  readonly logger: Log;
  readonly writeEmf: (line: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /**
   * The role's credentials for SigV4, for the Amazon OpenSearch engines when no secret is configured.
   * @default - the Node.js provider chain (in Lambda: the execution role's credentials from the environment)
   */
  readonly awsCredentials?: CredentialProvider;
}

/** The part of a scheduled EventBridge event the collector reads. */
export interface CollectorEvent {
  readonly time?: string;
}

/**
 * Builds the handler around its dependencies. State that outlives one run (configuration, secret, client with its
 * keep-alive connections) lives in this closure, i.e. in the warm execution environment.
 */
export function createCollectorHandler(deps: CollectorHandlerDeps): (event: CollectorEvent) => Promise<RunSummary | undefined> {
  let config: CollectorConfig | undefined;
  let secret: CachedValue<ElasticAuth> | undefined;
  let current: { authKey: string; transport: SearchTransport } | undefined;

  return async (event) => {
    const parsedTime = event?.time ? new Date(event.time) : undefined;
    const now = parsedTime && !Number.isNaN(parsedTime.getTime()) ? parsedTime : new Date();
    try {
      config ??= parseCollectorConfig(deps.env[COLLECTOR_CONFIG_ENV]);
    } catch (e) {
      reportFailedRun(
        { kind: 'config', source: 'configuration', message: (e as Error).message },
        deps.logger,
        deps.writeEmf,
        undefined,
        now,
      );
      return undefined;
    }
    const cfg = config;

    let authenticate: Authenticate;
    let authKey: string;
    const credentials = cfg.credentials;
    if (credentials) {
      secret ??= new CachedValue(async () => {
        const out = await deps.secretsManager.send(new GetSecretValueCommand({ SecretId: credentials.secretArn }));
        return parseCredentials(out.SecretString, credentials);
      }, SECRET_TTL_MS);
      let auth: ElasticAuth;
      try {
        auth = await secret.get();
      } catch (e) {
        reportFailedRun({ kind: 'secret', source: 'secret', message: secretProblem(e, credentials) }, deps.logger, deps.writeEmf, cfg, now);
        return undefined;
      }
      authenticate = headerAuthenticator(auth);
      authKey = JSON.stringify(auth);
    } else {
      const engine = cfg.engine!;
      const region = engine.region ?? regionOfEndpoint(cfg.endpoint);
      if (!region) {
        reportFailedRun({
          kind: 'config',
          source: 'configuration',
          message: `the region to sign requests for is not in the endpoint ${cfg.endpoint}: give the region in the engine's options (SearchEngine.amazonOpenSearchService({ region }))`,
        }, deps.logger, deps.writeEmf, cfg, now);
        return undefined;
      }
      authenticate = sigV4Authenticator(signingService(engine.kind)!, region, deps.awsCredentials ?? defaultAwsCredentials());
      authKey = `sigv4:${region}`;
    }

    if (!current || current.authKey !== authKey) {
      // The secret changed: drop the old transport's pooled connections before building one with the new credentials.
      current?.transport.close();
      current = {
        authKey,
        transport: collectorTransport(cfg, authenticate),
      };
    }

    try {
      const summary = await collect({
        client: searchClient(current.transport),
        config: cfg,
        now,
        logger: deps.logger,
        writeEmf: deps.writeEmf,
      });
      if (summary.problems.some((p) => p.kind === 'auth')) secret?.invalidate();
      return summary;
    } catch (e) {
      // Only a bug gets here; it is reported like any other problem instead of failing the invocation.
      reportFailedRun(classifyError(e, 'collector', cfg.endpoint), deps.logger, deps.writeEmf, cfg, now);
      return undefined;
    }
  };
}

function secretProblem(e: unknown, credentials: CredentialsConfig): string {
  return e instanceof ConfigError
    ? e.message
    : `cannot read secret ${credentials.secretArn}: ${(e as Error).name}: ${(e as Error).message}; check the function's network path to Secrets Manager and the key policy`;
}

let awsCredentials: CredentialProvider | undefined;
/** Built on first use: a collector with a secret never loads the AWS credential chain. */
function defaultAwsCredentials(): CredentialProvider {
  awsCredentials ??= defaultProvider();
  return awsCredentials;
}

export const handler = createCollectorHandler({
  secretsManager: new SecretsManagerClient({}),
  logger: powertoolsLog(new Logger({ serviceName: 'elastic-waf-monitor' })),
  // EMF must reach the log as the bare JSON line; console.* would be wrapped by Lambda's JSON log format.
  writeEmf: (line) => process.stdout.write(`${line}\n`),
  env: process.env,
});
