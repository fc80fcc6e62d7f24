import { Logger } from '@aws-lambda-powertools/logger';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Client, ClientOptions } from '@elastic/elasticsearch';
import { RunSummary, collect, reportFailedRun } from './runtime/collector';
import { COLLECTOR_CONFIG_ENV, CollectorConfig, ConfigError, parseCollectorConfig } from './runtime/config';
import { searchClient } from './runtime/elastic-client';
import { createElasticClient } from '../shared/runtime/elastic/client';
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
  /** Tests pass the mock connection of `@elastic/elasticsearch-mock`. */
  readonly connection?: ClientOptions['Connection'];
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
  let current: { authKey: string; client: Client } | undefined;

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
    secret ??= new CachedValue(async () => {
      const out = await deps.secretsManager.send(new GetSecretValueCommand({ SecretId: cfg.credentials.secretArn }));
      return parseCredentials(out.SecretString, cfg.credentials);
    }, SECRET_TTL_MS);

    let auth: ElasticAuth;
    try {
      auth = await secret.get();
    } catch (e) {
      const message =
        e instanceof ConfigError
          ? e.message
          : `cannot read secret ${cfg.credentials.secretArn}: ${(e as Error).name}: ${(e as Error).message}; check the function's network path to Secrets Manager and the key policy`;
      reportFailedRun({ kind: 'secret', source: 'secret', message }, deps.logger, deps.writeEmf, cfg, now);
      return undefined;
    }

    const authKey = JSON.stringify(auth);
    if (!current || current.authKey !== authKey) {
      // The secret changed: drop the old client's pooled connections before building one with the new credentials.
      void current?.client.close().catch(() => undefined);
      current = { authKey, client: createElasticClient(cfg, auth, deps.connection) };
    }

    try {
      const summary = await collect({
        client: searchClient(current.client),
        config: cfg,
        now,
        logger: deps.logger,
        writeEmf: deps.writeEmf,
      });
      if (summary.problems.some((p) => p.kind === 'auth')) secret.invalidate();
      return summary;
    } catch (e) {
      // Only a bug gets here; it is reported like any other problem instead of failing the invocation.
      reportFailedRun(classifyError(e, 'collector', cfg.endpoint), deps.logger, deps.writeEmf, cfg, now);
      return undefined;
    }
  };
}

export const handler = createCollectorHandler({
  secretsManager: new SecretsManagerClient({}),
  logger: powertoolsLog(new Logger({ serviceName: 'elastic-waf-monitor' })),
  // EMF must reach the log as the bare JSON line; console.* would be wrapped by Lambda's JSON log format.
  writeEmf: (line) => process.stdout.write(`${line}\n`),
  env: process.env,
});
