import * as http from 'node:http';
import * as https from 'node:https';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { DashboardsOutcome, DashboardsRequest, DashboardsSettings, runDashboardsRequest } from './runtime/kibana-dashboards-resource';
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
  /** @default - the Node.js provider chain (in Lambda: the execution role's credentials) */
  readonly awsCredentials?: CredentialProvider;
  /** Writes one log line. */
  readonly log: (line: string) => void;
  /** Time limit of each HTTP request to the product. @default 30 s */
  readonly timeoutMs?: number;
}

/** Builds the handler around its dependencies; the tests give fakes, Lambda the SDK clients. */
export function createDashboardsHandler(deps: DashboardsHandlerDeps): (event: DashboardsEvent) => Promise<DashboardsOutcome> {
  const authenticatorFor = async (settings: DashboardsSettings): Promise<Authenticate> => {
    if (settings.credentials) {
      let secretString: string | undefined;
      try {
        secretString = (await deps.secretsManager.send(new GetSecretValueCommand({ SecretId: settings.credentials.secretArn }))).SecretString;
      } catch (e) {
        throw new Error(`cannot read secret ${settings.credentials.secretArn} (${(e as Error).name}: ${(e as Error).message}): ` +
          "check the function's network path to Secrets Manager and the secret's key policy");
      }
      return headerAuthenticator(parseCredentials(secretString, settings.credentials));
    }
    return sigV4Authenticator('es', settings.signingRegion!, deps.awsCredentials ?? defaultProvider());
  };
  return async (event) => {
    const outcome = await runDashboardsRequest(event, authenticatorFor, deps.timeoutMs);
    const { Status: status, Reason: reason, PhysicalResourceId: physicalResourceId } = outcome;
    deps.log(JSON.stringify({ requestType: event.RequestType, status, reason, physicalResourceId }));
    await respond(event, outcome);
    return outcome;
  };
}

/** PUTs the answer to CloudFormation's pre-signed URL (an empty content type, as the URL was signed for). */
export function respond(event: DashboardsEvent, outcome: DashboardsOutcome): Promise<void> {
  const body = JSON.stringify({
    ...outcome,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  });
  const lib = event.ResponseURL.startsWith('http://') ? http : https;
  return new Promise((resolve, reject) => {
    const req = lib.request(event.ResponseURL, { method: 'PUT', headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`CloudFormation answered the response with ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

let live: ((event: DashboardsEvent) => Promise<DashboardsOutcome>) | undefined;

export async function handler(event: DashboardsEvent): Promise<void> {
  live ??= createDashboardsHandler({ secretsManager: new SecretsManagerClient({}), log: (line) => console.log(line) });
  await live(event);
}
