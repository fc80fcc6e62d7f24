/**
 * Checks a SigV4 `Authorization` header the way AWS does, written from the published algorithm (not with the signer the
 * code under test uses): credential scope, signed headers, payload hash, and the signature recomputed with the known
 * test credentials from the request as it arrived on the wire.
 */
import { createHash, createHmac } from 'node:crypto';

export interface SigV4Expectation {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
  readonly service: string;
}

export interface ReceivedRequest {
  readonly method: string;
  /** The request target as received: encoded path and query. */
  readonly url: string;
  /** Lower-case names, as node:http gives them. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

const escape = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** Why the request's signature would be refused, or undefined when it is valid. */
export function sigV4Problem(request: ReceivedRequest, expected: SigV4Expectation): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return 'no Authorization header';
  const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(header);
  if (!match) return `Authorization header is not SigV4: ${header}`;
  const [, accessKeyId, date, region, service, signedHeaderList, signature] = match;
  if (accessKeyId !== expected.accessKeyId) return `signed with access key ${accessKeyId}`;
  if (region !== expected.region) return `credential scope region ${region}, expected ${expected.region}`;
  if (service !== expected.service) return `credential scope service ${service}, expected ${expected.service}`;
  const amzDate = request.headers['x-amz-date'];
  if (typeof amzDate !== 'string' || !/^\d{8}T\d{6}Z$/.test(amzDate)) return 'no valid x-amz-date header';
  if (!amzDate.startsWith(date)) return `credential scope date ${date} differs from x-amz-date ${amzDate}`;
  const signedHeaders = signedHeaderList.split(';');
  for (const required of ['host', 'x-amz-date']) {
    if (!signedHeaders.includes(required)) return `signed headers ${signedHeaderList} leave out ${required}`;
  }
  const payloadHash = sha256(request.body);
  const declaredHash = request.headers['x-amz-content-sha256'];
  if (service === 'aoss' && declaredHash === undefined) return 'Serverless needs x-amz-content-sha256';
  if (declaredHash !== undefined && declaredHash !== payloadHash) return 'x-amz-content-sha256 does not match the body';

  const [rawPath, rawQuery = ''] = request.url.split('?', 2);
  // Every service but S3 signs the path with each segment encoded once more than it travels.
  const canonicalPath = rawPath.split('/').map((segment) => escape(segment)).join('/');
  const canonicalQuery = rawQuery === '' ? '' : rawQuery.split('&')
    .map((pair) => pair.split('=', 2).map((part) => escape(decodeURIComponent(part ?? ''))))
    .sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v ?? ''}`)
    .join('&');
  const canonicalHeaders = signedHeaders.map((name) => {
    const value = request.headers[name];
    if (value === undefined) return undefined;
    return `${name}:${String(value).trim().replace(/\s+/g, ' ')}\n`;
  });
  if (canonicalHeaders.includes(undefined)) return `a signed header is missing from the request (${signedHeaderList})`;
  const canonicalRequest = [
    request.method,
    canonicalPath,
    canonicalQuery,
    canonicalHeaders.join(''),
    signedHeaderList,
    declaredHash ?? payloadHash,
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${expected.secretAccessKey}`, date), region), service), 'aws4_request');
  const recomputed = createHmac('sha256', key).update(stringToSign).digest('hex');
  return recomputed === signature ? undefined : 'The request signature we calculated does not match the signature you provided';
}
