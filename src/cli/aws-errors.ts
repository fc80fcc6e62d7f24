/**
 * How the commands that call AWS report its failures: what the user can do, without a stack trace. Built on error names
 * and fields only, so it imports no SDK.
 */

/** Exit status of a failure outside the command line: credentials, permissions, network, AWS. */
export const EXIT_RUNTIME = 1;
/** Exit status of a mistake in the command line (an option, a name): fixed by changing the arguments. */
export const EXIT_USAGE = 2;

export interface ExplainedError {
  readonly message: string;
  readonly exitCode: number;
}

const REFUSALS = ['AccessDeniedException', 'AccessDenied', 'UnrecognizedClientException', 'ExpiredTokenException', 'InvalidClientTokenId',
  'ExpiredToken', 'InvalidSignatureException', 'SignatureDoesNotMatch'];
const NETWORK = ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH'];

/**
 * What to tell the user about a failed AWS call; undefined when the error is not one (a bug keeps its stack).
 * @param tableOptions the options that name the command's tables, for a table that does not exist
 */
export function explainAwsError(e: unknown, tableOptions: string): ExplainedError | undefined {
  const err = e as { name?: string; message?: string; code?: string; $metadata?: unknown } | undefined;
  if (!err || typeof err !== 'object') return undefined;
  const message = String(err.message ?? '');
  if (err.name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return {
      message: 'no AWS credentials found: set AWS_PROFILE (or run `aws sso login`), or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
      exitCode: EXIT_RUNTIME,
    };
  }
  if (err.name === 'ResourceNotFoundException') {
    return { message: `table not found (${message}): check ${tableOptions} and --region`, exitCode: EXIT_USAGE };
  }
  if (REFUSALS.includes(err.name ?? '')) return { message: `AWS refused the call (${err.name}): ${message}`, exitCode: EXIT_RUNTIME };
  if (NETWORK.includes(err.code ?? '') || err.name === 'TimeoutError') {
    return { message: `AWS could not be reached (${err.code ?? err.name}: ${message}): check the network, --region and any AWS_ENDPOINT_URL`, exitCode: EXIT_RUNTIME };
  }
  if (err.$metadata !== undefined) return { message: `AWS answered with an error (${err.name}): ${message}`, exitCode: EXIT_RUNTIME };
  return undefined;
}
