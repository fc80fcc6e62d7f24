/**
 * How the collector's requests are authenticated: a header from the Secrets Manager credentials (basic auth, API key),
 * or a SigV4 signature from the function's role for Amazon OpenSearch Service (`es`) and Serverless (`aoss`).
 */
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { EngineConfig } from './config';
import { Authenticate } from './search-transport';
import { ElasticAuth } from '../../shared/runtime/elastic/credentials';

type SignerInit = ConstructorParameters<typeof SignatureV4>[0];
export type CredentialProvider = NonNullable<SignerInit['credentials']>;
type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytes(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** SHA-256 and HMAC-SHA-256 from node:crypto in the shape the signer takes (no browser crypto shim in the bundle). */
export class NodeSha256 {
  private hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;

  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }

  public update(data: SourceData): void {
    this.hash.update(bytes(data));
  }

  public async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  public reset(): void {
    this.hash = this.fresh();
  }

  private fresh() {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(this.secret));
  }
}

/** Basic auth or API key: a fixed header. */
export function headerAuthenticator(auth: ElasticAuth): Authenticate {
  const authorization = 'apiKey' in auth
    ? `ApiKey ${auth.apiKey}`
    : `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  return async (request) => ({ ...request.headers, authorization });
}

/**
 * SigV4 with the function's role. The payload hash goes in `x-amz-content-sha256`, which Serverless requires and the
 * domains accept; the signed headers include `host` and `x-amz-date`.
 */
export function sigV4Authenticator(service: 'es' | 'aoss', region: string, credentials: CredentialProvider, clock?: () => Date): Authenticate {
  const signer = new SignatureV4({ service, region, credentials, sha256: NodeSha256, uriEscapePath: true, applyChecksum: true });
  return async (request) => {
    const payloadHash = createHash('sha256').update(request.body ?? '').digest('hex');
    const signed = await signer.sign({
      method: request.method,
      protocol: request.protocol,
      hostname: request.hostname,
      port: request.port,
      path: request.path,
      query: { ...request.query },
      headers: { ...request.headers, 'x-amz-content-sha256': payloadHash },
      body: request.body,
    }, clock ? { signingDate: clock() } : undefined);
    return signed.headers as Record<string, string>;
  };
}

/** What to check after a 401 or 403, for the engine and authentication in use. */
export function authAdvice(engine: EngineConfig | undefined, signed: boolean): string {
  const kind = engine?.kind ?? 'elasticsearch';
  if (signed && kind === 'amazon-opensearch-serverless') {
    return "check that the collector's role may call aoss:APIAccessAll on the collection, that a data access policy of " +
      'the collection grants the role aoss:ReadDocument on the index pattern, and that the network policy lets the function in';
  }
  if (signed) {
    return "check that the collector's role may call es:ESHttpGet and es:ESHttpPost on the domain (its identity policy " +
      "and the domain's access policy) and, with fine-grained access control, that the role is mapped to an OpenSearch " +
      'role with read on the index pattern and cluster_monitor';
  }
  if (kind === 'elasticsearch') {
    return "check the credentials in the secret and the user's privileges (read on the index pattern, monitor on the cluster)";
  }
  return "check the credentials in the secret and the user's permissions (read on the index pattern, cluster_monitor on the cluster)";
}
