import * as http from 'node:http';
import * as https from 'node:https';
import { CloudFormationClient, DescribeStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import {
  DashboardsOutcome, DashboardsRequest, DashboardsSettings, FAILED_CREATE_PREFIX, leftBehind, objectsToDelete,
  parseDashboardsProperties, runDashboardsRequest,
} from './runtime/kibana-dashboards-resource';
import { CredentialProvider, headerAuthenticator, sigV4Authenticator } from './runtime/request-auth';
import { Authenticate } from './runtime/search-transport';
import { parseCredentials } from '../shared/runtime/elastic/credentials';

/**
 * The custom resource behind the monitor's `kibanaDashboards`: imports the WAF dashboard's saved objects into Kibana or
 * OpenSearch Dashboards with the collector's credentials, from the collector's network. It answers CloudFormation
 * itself (no provider framework), so the function is the only moving part.
 */

/** The request CloudFormation sends, with where to answer. */
export interface DashboardsEvent extends DashboardsRequest {
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly LogicalResourceId: string;
}

export interface DashboardsHandlerDeps {
  readonly secretsManager: Pick<SecretsManagerClient, 'send'>;
  /** Reads the stack's resources before a removal, so objects another resource holds stay. @default - not read */
  readonly cloudFormation?: Pick<CloudFormationClient, 'send'>;
  /** @default - the Node.js provider chain (in Lambda: the execution role's credentials) */
  readonly awsCredentials?: CredentialProvider;
  /** Writes one log line. */
  readonly log: (line: string) => void;
  /** Time limit of each HTTP request to the product. @default 30 s */
  readonly timeoutMs?: number;
  /** Time kept at the end of the invocation to answer CloudFormation. @default 5 s */
  readonly answerReserveMs?: number;
}

/** The part of Lambda's context the handler reads. */
export interface DashboardsContext {
  getRemainingTimeInMillis(): number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_ANSWER_RESERVE_MS = 5_000;

/** Builds the handler around its dependencies; the tests give fakes, Lambda the SDK clients. */
export function createDashboardsHandler(
  deps: DashboardsHandlerDeps,
): (event: DashboardsEvent, context?: DashboardsContext) => Promise<DashboardsOutcome> {
  const reserveMs = deps.answerReserveMs ?? DEFAULT_ANSWER_RESERVE_MS;
  const authenticatorFor = (abortSignal: AbortSignal) => async (settings: DashboardsSettings): Promise<Authenticate> => {
    if (settings.credentials) {
      let secretString: string | undefined;
      try {
        const command = new GetSecretValueCommand({ SecretId: settings.credentials.secretArn });
        secretString = (await deps.secretsManager.send(command, { abortSignal })).SecretString;
      } catch (e) {
        throw new Error(`cannot read secret ${settings.credentials.secretArn} (${(e as Error).name}: ${(e as Error).message}): ` +
          "check the function's network path to Secrets Manager and the secret's key policy");
      }
      return headerAuthenticator(parseCredentials(secretString, settings.credentials));
    }
    return sigV4Authenticator('es', settings.signingRegion!, deps.awsCredentials ?? defaultProvider());
  };
  return async (event, context) => {
    // CloudFormation waits an hour for an answer that a timed-out function never sends: whatever hangs (Secrets
    // Manager, the product, a dropped connection), the answer goes out while the function still has time.
    const leftMs = Math.max(0, (context?.getRemainingTimeInMillis() ?? Infinity) - reserveMs);
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeUp = new Promise<DashboardsOutcome>((resolve) => {
      if (leftMs === Infinity) return;
      timer = setTimeout(() => {
        abort.abort();
        resolve(timedOut(event, leftMs));
      }, leftMs);
    });
    const timeoutMs = Math.max(1, Math.min(deps.timeoutMs ?? DEFAULT_TIMEOUT_MS, leftMs));
    const cfn = deps.cloudFormation;
    const stackResources = cfn && (async (r: { readonly StackId: string }) =>
      (await cfn.send(new DescribeStackResourcesCommand({ StackName: r.StackId }), { abortSignal: abort.signal })).StackResources ?? []);
    const work = runDashboardsRequest(event, authenticatorFor(abort.signal), timeoutMs, stackResources);
    const outcome = await Promise.race([work, timeUp]).finally(() => clearTimeout(timer));
    const { Status: status, Reason: reason, PhysicalResourceId: physicalResourceId } = outcome;
    deps.log(JSON.stringify({ requestType: event.RequestType, status, reason, physicalResourceId }));
    await respond(event, outcome, reserveMs);
    return outcome;
  };
}

/**
 * The answer when the work outlasts the function's time: FAILED with what to check, so the stack does not hang; for a
 * Delete, SUCCESS with the objects left behind, as when the product is out of reach.
 */
function timedOut(event: DashboardsEvent, afterMs: number): DashboardsOutcome {
  if (event.RequestType === 'Delete') {
    const message = `no result within ${Math.round(afterMs / 1000)} s`;
    // Only a Delete with removeOnDelete and readable properties contacts anything, so these parse.
    const settings = parseDashboardsProperties(event.ResourceProperties);
    const objects = objectsToDelete(settings).map((o) => ({ ...o, outcome: 'failed' as const, message, unreachable: true }));
    return leftBehind(objects, settings, event.PhysicalResourceId!);
  }
  const physicalId = event.RequestType === 'Create' ? `${FAILED_CREATE_PREFIX}${event.RequestId}` : event.PhysicalResourceId!;
  return {
    Status: 'FAILED',
    Reason: `no result after ${Math.round(afterMs / 1000)} s, answered before the function's timeout: Secrets Manager or ` +
      'the product did not answer in time; check the network path from the function (VPC routes, security groups, endpoints)',
    PhysicalResourceId: physicalId,
  };
}

/** CloudFormation refuses a response body over 4 KB (bytes, and a reason in another script takes up to 3 per character). */
const RESPONSE_BYTES = 4096;

/** The answer as JSON within CloudFormation's limit; only the reason is cut (the log has it whole). */
export function responseBody(event: DashboardsEvent, outcome: DashboardsOutcome): string {
  const body = (reason: string) => JSON.stringify({
    ...outcome,
    Reason: reason,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  });
  const whole = body(outcome.Reason);
  if (Buffer.byteLength(whole) <= RESPONSE_BYTES) return whole;
  // Cut by code points (never half a character), measured after JSON escaping, the longest prefix that fits.
  const chars = Array.from(outcome.Reason);
  const cut = (n: number) => body(`${chars.slice(0, n).join('')}…`);
  let fits = 0;
  let over = chars.length;
  while (over - fits > 1) {
    const mid = Math.floor((fits + over) / 2);
    if (Buffer.byteLength(cut(mid)) <= RESPONSE_BYTES) fits = mid;
    else over = mid;
  }
  return cut(fits);
}

/** PUTs the answer to CloudFormation's pre-signed URL (an empty content type, as the URL was signed for). */
export function respond(event: DashboardsEvent, outcome: DashboardsOutcome, timeoutMs: number = DEFAULT_ANSWER_RESERVE_MS): Promise<void> {
  const body = responseBody(event, outcome);
  const lib = event.ResponseURL.startsWith('http://') ? http : https;
  return new Promise((resolve, reject) => {
    const req = lib.request(event.ResponseURL, { method: 'PUT', headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`CloudFormation answered the response with ${res.statusCode}`))));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`CloudFormation's response URL did not answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

let live: ((event: DashboardsEvent, context?: DashboardsContext) => Promise<DashboardsOutcome>) | undefined;

export async function handler(event: DashboardsEvent, context: DashboardsContext): Promise<void> {
  live ??= createDashboardsHandler({
    // The SDK's default has no time limit; the handler's deadline covers the rest.
    secretsManager: new SecretsManagerClient({ requestHandler: { connectionTimeout: 5_000, requestTimeout: 10_000 } }),
    cloudFormation: new CloudFormationClient({ requestHandler: { connectionTimeout: 5_000, requestTimeout: 10_000 } }),
    log: (line) => console.log(line),
  });
  await live(event, context);
}
