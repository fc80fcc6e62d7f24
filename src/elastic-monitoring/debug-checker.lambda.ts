import { promises as dns } from 'dns';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CHECKER_LOCATION_ENV, CheckResult, CheckerLocation, Lookup, Resolver, parseCheckRequest, runCheck, systemLookup } from './runtime/debug-checks';
import { loadCustomers, parseDebugConfig } from './runtime/debug-targets';
import { Log, powertoolsLog } from '../shared/runtime/telemetry';

export interface CheckerDeps {
  readonly env: NodeJS.ProcessEnv;
  readonly ddb?: Pick<DynamoDBDocumentClient, 'send'>;
  readonly resolver: Resolver;
  /** Resolves front doors and upstreams before they are contacted (`dns.lookup`, all addresses). */
  readonly lookup: Lookup;
  /** Tests only: where a socket for a checked address goes (see `CheckContext.route`). */
  readonly route?: (address: string) => string;
  readonly logger: Log;
  /** Extra trusted CAs (tests). */
  readonly ca?: string | Buffer;
}

export interface CheckerResponse {
  readonly results?: CheckResult[];
  readonly error?: string;
}

/**
 * Runs one check for one configured customer and logs one event per host. A request naming anything but a configured
 * customer and a known check is refused before any network call.
 */
export function createCheckerHandler(deps: CheckerDeps): (event: unknown) => Promise<CheckerResponse> {
  return async (event) => {
    const config = parseDebugConfig(deps.env);
    const location: CheckerLocation = deps.env[CHECKER_LOCATION_ENV] === 'inside' ? 'inside' : 'outside';
    const customers = await loadCustomers(config, deps.ddb);
    let request;
    try {
      request = parseCheckRequest(event, customers);
    } catch (e) {
      deps.logger.warn(`refused debug check request: ${(e as Error).message}`, { event: 'debug-check-refused' });
      return { error: (e as Error).message };
    }
    const customer = customers.find((c) => c.name === request.customer)!;
    const { resolver, lookup, route, ca } = deps;
    const results = await runCheck(request, customer, { config, location, resolver, lookup, route, ca });
    for (const r of results) {
      const ok = r.notContacted ? `not contacted (${r.notContacted})` : r.status !== undefined ? `OK (HTTP ${r.status})` : 'OK';
      const line = `${r.check} check of ${r.host} from ${r.location}: ${r.finding || ok}`;
      if (r.finding) deps.logger.warn(line, { event: 'debug-check', ...r });
      else deps.logger.info(line, { event: 'debug-check', ...r });
    }
    return { results };
  };
}

export const handler = createCheckerHandler({
  env: process.env,
  ddb: process.env.AWS_REGION ? DynamoDBDocumentClient.from(new DynamoDBClient({})) : undefined,
  resolver: { resolve4: (h) => dns.resolve4(h), resolve6: (h) => dns.resolve6(h) },
  lookup: systemLookup,
  logger: powertoolsLog(new Logger({ serviceName: 'waf-debug-checker' })),
});
