/**
 * `cdk-waf-guard dashboards export|import`: the WAF dashboard as Kibana / OpenSearch Dashboards saved objects,
 * generated from the monitor's field settings, written to a file or imported through the saved-objects import API with
 * the caller's credentials (a Secrets Manager secret, or SigV4 for Amazon OpenSearch Service). It needs the AWS SDK and
 * the SigV4 signer, devDependencies, so it ships as a bundle of its own (assets/cli/dashboards-command) that the CLI
 * loads only for these commands.
 */
import { readFile, writeFile } from 'fs/promises';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { explainAwsError, EXIT_RUNTIME, EXIT_USAGE } from './aws-errors';
import { parseCommandArgs } from './command-args';
import { UserError } from './errors';
import { formatTable, printable } from './text-table';
import {
  COLLECTOR_CONFIG_ENV, DEFAULT_FIELDS, DEFAULT_STATUS_VALUES, ENGINE_KINDS, EngineKind, FieldNames, regionOfEndpoint, validateCollectorConfig,
} from '../elastic-monitoring/runtime/config';
import { CredentialProvider, headerAuthenticator, sigV4Authenticator } from '../elastic-monitoring/runtime/request-auth';
import {
  importEndpoint, ImportResult, importSavedObjects, importUrlErrors, isAmazonOpenSearchServiceHost, objectsInNdjson, productName,
  SavedObjectsImportError,
} from '../elastic-monitoring/runtime/saved-objects-import';
import { DashboardFlavour, DashboardSource, flavourOf, toNdjson, wafSavedObjects } from '../elastic-monitoring/saved-objects/saved-objects';
import { ConfigError, CredentialsConfig } from '../shared/runtime/elastic/connection';
import { parseCredentials } from '../shared/runtime/elastic/credentials';

/** The monitor's `fields` props (ElasticDocumentFields) and the collector's names for them. */
const FIELD_OPTIONS: ReadonlyArray<readonly [string, keyof FieldNames]> = [
  ['--field-timestamp', 'timestamp'],
  ['--field-latency-ms', 'latency'],
  ['--field-status', 'status'],
  ['--field-host', 'host'],
  ['--field-customer', 'customer'],
  ['--field-client-ip', 'clientIp'],
  ['--field-request-bytes', 'requestBytes'],
  ['--field-response-bytes', 'responseBytes'],
  ['--field-http-status-code', 'httpStatusCode'],
];
const STATUS_OPTIONS: ReadonlyArray<readonly [string, 'allowed' | 'blocked' | 'alerted']> = [
  ['--status-allowed', 'allowed'], ['--status-blocked', 'blocked'], ['--status-alerted', 'alerted'],
];
const DEFAULT_APDEX_MS = 30;

export const DASHBOARDS_USAGE = `Usage: cdk-waf-guard dashboards export --out <waf.ndjson> [--flavour kibana|opensearch] <source>
       cdk-waf-guard dashboards import --url <url> (--secret <arn> | --sigv4 [--region <r>]) [--flavour kibana|opensearch]
                                       (--file <waf.ndjson> | <source>)

The WAF dashboard (data view or index pattern, its searches and visualizations, one dashboard) as saved objects, from
the same field settings as ElasticWafMonitor, with stable ids: importing again updates the objects, never copies them.

<source> is the monitor's collector configuration, or its settings as flags:
  --config <file>              the collector function's ${COLLECTOR_CONFIG_ENV} environment variable (JSON):
      aws lambda get-function-configuration --function-name <collector function> \\
        --query 'Environment.Variables.${COLLECTOR_CONFIG_ENV}' --output text > collector-config.json
  --index-pattern <pattern>    the monitor's indexPattern, e.g. "waf-*"
${FIELD_OPTIONS.map(([o, k]) => `  ${`${o} <name>`.padEnd(29)}default ${DEFAULT_FIELDS[k]}`).join('\n')}
${STATUS_OPTIONS.map(([o, k]) => `  ${`${o} <value>`.padEnd(29)}default ${DEFAULT_STATUS_VALUES[k]}`).join('\n')}
  --apdex-ms <ms>              the monitor's apdexThreshold in milliseconds (default ${DEFAULT_APDEX_MS})
  --apdex-definition <name>    allRequests (default) or allowedRequests
  --engine <kind>              ${ENGINE_KINDS.join(', ')}: picks the flavour (default elasticsearch)

Options:
  --flavour kibana|opensearch  Kibana 8.x (data view, Lens) or OpenSearch Dashboards 2.x (index pattern, visualizations);
                               default: opensearch for --sigv4 or an Amazon OpenSearch Service URL (the service
                               serves OpenSearch Dashboards only), else from the engine (OpenSearch engines:
                               opensearch), with --file kibana
  --out <file>                 export: the NDJSON file to write ("-" for standard output)
  --url <url>                  import: Kibana's or OpenSearch Dashboards' URL, with its base path if any (a Kibana
                               space: .../s/<space>), not an API or app path; a domain of Amazon OpenSearch Service:
                               its endpoint (/_dashboards is added) or endpoint/_dashboards
  --secret <arn>               import: Secrets Manager secret with {"username","password"} (basic auth) or
                               {"apiKey"} / the bare key (Kibana API key), read with your AWS credentials
  --sigv4                      import: sign with your AWS credentials (Amazon OpenSearch Service, service es)
  --region <region>            the region to sign for and of the secret (default: from the URL or ARN, else AWS_REGION)
  --file <file.ndjson>         import: this file instead of generating the objects
  -h, --help                   this text

Import prints each object as created, updated or failed (with the reason). Exit status: 0 when every object was
imported; 1 when one failed or the import could not be made (refused, unreachable, AWS); 2 on a mistake in the
arguments or an unreadable file (checked before any credentials are read).`;

export interface DashboardsIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** AWS access, injectable for tests. */
export interface DashboardsDeps {
  readonly secretsManager?: (region: string) => Pick<SecretsManagerClient, 'send'>;
  readonly awsCredentials?: CredentialProvider;
}

interface Args {
  readonly options: Map<string, string>;
  readonly flags: Set<string>;
}

const VALUE_OPTIONS = new Set([
  '--out', '--flavour', '--config', '--index-pattern', '--apdex-ms', '--apdex-definition', '--engine', '--url', '--secret', '--region', '--file',
  ...FIELD_OPTIONS.map(([o]) => o), ...STATUS_OPTIONS.map(([o]) => o),
]);
const FLAGS = new Set(['--sigv4', '--help', '-h']);
const SOURCE_FLAGS = ['--index-pattern', '--apdex-ms', '--apdex-definition', '--engine', ...FIELD_OPTIONS.map(([o]) => o), ...STATUS_OPTIONS.map(([o]) => o)];

/** A mistake in the command line: the usage text follows. */
class DashboardsUsageError extends UserError {}

function parseArgs(argv: readonly string[]): Args {
  return parseCommandArgs(argv, {
    valueOptions: VALUE_OPTIONS, flags: FLAGS, positional: false, refuseRepeats: true, mistake: (m) => new DashboardsUsageError(m),
  });
}

function flavourOption(args: Args): DashboardFlavour | undefined {
  const flavour = args.options.get('--flavour');
  if (flavour === undefined || flavour === 'kibana' || flavour === 'opensearch') return flavour;
  throw new DashboardsUsageError(`--flavour must be kibana or opensearch (got ${flavour})`);
}

/** The settings from the flags, checked as the construct checks them. */
function sourceFromFlags(args: Args): DashboardSource {
  const indexPattern = args.options.get('--index-pattern');
  if (indexPattern === undefined || indexPattern.trim() === '') {
    throw new DashboardsUsageError('give the monitor\'s settings: --config <collector-config.json>, or --index-pattern <pattern> with the field flags');
  }
  const fields = { ...DEFAULT_FIELDS } as Record<keyof FieldNames, string>;
  for (const [option, key] of FIELD_OPTIONS) {
    const v = args.options.get(option);
    if (v === undefined) continue;
    if (v.trim() === '') throw new DashboardsUsageError(`${option} must not be empty`);
    fields[key] = v;
  }
  const statusValues = { ...DEFAULT_STATUS_VALUES };
  for (const [option, key] of STATUS_OPTIONS) {
    const v = args.options.get(option);
    if (v === undefined) continue;
    if (v.trim() === '') throw new DashboardsUsageError(`${option} must not be empty`);
    statusValues[key] = v;
  }
  const apdexRaw = args.options.get('--apdex-ms') ?? String(DEFAULT_APDEX_MS);
  const apdexTMs = /^\d+(\.\d+)?$/.test(apdexRaw) ? Number(apdexRaw) : NaN;
  if (!(apdexTMs > 0)) throw new DashboardsUsageError(`--apdex-ms must be a number of milliseconds greater than 0 (got ${apdexRaw})`);
  const apdexDefinition = args.options.get('--apdex-definition') ?? 'allRequests';
  if (apdexDefinition !== 'allRequests' && apdexDefinition !== 'allowedRequests') {
    throw new DashboardsUsageError(`--apdex-definition must be allRequests or allowedRequests (got ${apdexDefinition})`);
  }
  const engine = args.options.get('--engine') ?? 'elasticsearch';
  if (!ENGINE_KINDS.includes(engine as EngineKind)) throw new DashboardsUsageError(`--engine must be one of ${ENGINE_KINDS.join(', ')} (got ${engine})`);
  return { indexPattern, fields, statusValues, apdexTMs, apdexDefinition, engine: { kind: engine as EngineKind } };
}

/** The settings from the collector's configuration, validated as the collector validates it. */
async function sourceFromConfig(file: string): Promise<DashboardSource> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new UserError(`cannot read the collector configuration ${file}: ${(e as Error).message}`);
  }
  const errors = validateCollectorConfig(parsed);
  if (errors.length > 0) throw new UserError(`${file} is not a collector configuration (${COLLECTOR_CONFIG_ENV}): ${errors.join('; ')}`);
  const c = parsed as DashboardSource;
  return {
    indexPattern: c.indexPattern,
    fields: c.fields,
    statusValues: c.statusValues,
    apdexTMs: c.apdexTMs,
    apdexDefinition: c.apdexDefinition,
    engine: c.engine,
  };
}

/** The settings, from --config or the flags, never both. Undefined when neither is given (import --file). */
async function source(args: Args): Promise<DashboardSource | undefined> {
  const config = args.options.get('--config');
  const flags = SOURCE_FLAGS.filter((o) => args.options.has(o));
  if (config !== undefined && flags.length > 0) throw new DashboardsUsageError(`--config holds the settings: leave out ${flags.join(', ')}`);
  if (config !== undefined) return sourceFromConfig(config);
  return flags.length > 0 ? sourceFromFlags(args) : undefined;
}

async function runExport(args: Args, io: DashboardsIo): Promise<number> {
  for (const o of ['--url', '--secret', '--region', '--file']) if (args.options.has(o)) throw new DashboardsUsageError(`export takes no ${o}`);
  if (args.flags.has('--sigv4')) throw new DashboardsUsageError('export takes no --sigv4');
  const out = args.options.get('--out');
  if (!out) throw new DashboardsUsageError('--out <waf.ndjson> is required ("-" for standard output)');
  const flavourFlag = flavourOption(args);
  const settings = await source(args);
  if (!settings) throw new DashboardsUsageError('give the monitor\'s settings: --config <collector-config.json>, or --index-pattern <pattern> with the field flags');
  const flavour = flavourFlag ?? flavourOf(settings);
  const objects = wafSavedObjects(settings, flavour);
  const ndjson = toNdjson(objects);
  if (out === '-') {
    io.stdout(ndjson.replace(/\n$/, ''));
    return 0;
  }
  try {
    await writeFile(out, ndjson, 'utf8');
  } catch (e) {
    throw new UserError(`cannot write ${out}: ${(e as Error).message}`);
  }
  io.stdout(`${objects.length} saved objects for ${productName(flavour)} written to ${out}`
    + `${out.toLowerCase().endsWith('.ndjson') ? '' : ' (give the file a .ndjson name: the import API refuses other names)'}`);
  return 0;
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

interface ImportPlan {
  readonly url: string;
  readonly flavour: DashboardFlavour;
  readonly ndjson: string;
  readonly fileName?: string;
  readonly secret?: string;
  readonly region?: string;
}

/** Every check that needs no credentials, then the objects to send. */
async function planImport(args: Args): Promise<ImportPlan> {
  if (args.options.has('--out')) throw new DashboardsUsageError('import takes no --out: export writes files');
  const url = args.options.get('--url');
  if (!url) throw new DashboardsUsageError('--url <Kibana or OpenSearch Dashboards URL> is required');
  const urlErrors = importUrlErrors(url);
  if (urlErrors.length > 0) throw new DashboardsUsageError(`--url: ${urlErrors.join('; ')}`);
  const parsed = new URL(url);
  if (parsed.protocol === 'http:' && !LOCAL_HOSTS.has(parsed.hostname)) {
    throw new DashboardsUsageError(`--url ${url} uses http://, which would send the credentials unencrypted: use https://`);
  }
  const secret = args.options.get('--secret');
  const sigv4 = args.flags.has('--sigv4');
  if (secret !== undefined && sigv4) throw new DashboardsUsageError('give --secret or --sigv4, not both: a request carries basic auth or a SigV4 signature, not both');
  if (secret === undefined && !sigv4) throw new DashboardsUsageError('give the credentials: --secret <arn> (basic auth or API key) or --sigv4 (Amazon OpenSearch Service)');
  if (secret !== undefined && !/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/.test(secret) && !/^[\w/+=.@-]+$/.test(secret)) {
    throw new DashboardsUsageError(`--secret must be a Secrets Manager secret's ARN or name (got ${secret})`);
  }
  const region = args.options.get('--region') ?? (secret ? /^arn:[^:]+:secretsmanager:([^:]+):/.exec(secret)?.[1] : undefined)
    ?? regionOfEndpoint(url) ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw new DashboardsUsageError(`--region must be an AWS region such as eu-west-1 (got ${region})`);
  if (sigv4 && !region) throw new DashboardsUsageError('--sigv4 needs the region to sign for: --region <region> (it is not in the URL)');
  const flavourFlag = flavourOption(args);
  if (sigv4 && flavourFlag === 'kibana') throw new DashboardsUsageError('--sigv4 signs for Amazon OpenSearch Service, whose Dashboards are OpenSearch Dashboards: use --flavour opensearch');
  const engineFlag = args.options.get('--engine');
  if (sigv4 && engineFlag === 'elasticsearch') {
    throw new DashboardsUsageError(`--sigv4 signs for Amazon OpenSearch Service, whose Dashboards are OpenSearch Dashboards, but --engine ${engineFlag} means Kibana: `
      + 'give --engine amazon-opensearch-service, or --secret for Kibana');
  }
  // --sigv4 or a domain's endpoint: the target is Amazon OpenSearch Service, which serves OpenSearch Dashboards only.
  const amazonOpenSearchService = sigv4 || isAmazonOpenSearchServiceHost(parsed.hostname);

  const file = args.options.get('--file');
  const settings = await source(args);
  if (file !== undefined && settings) throw new DashboardsUsageError('give --file or the monitor\'s settings (--config or the flags), not both');
  if (file === undefined && !settings) {
    throw new DashboardsUsageError('give what to import: --file <waf.ndjson>, or the monitor\'s settings (--config <collector-config.json> or --index-pattern with the field flags)');
  }
  if (file !== undefined) {
    if (!file.toLowerCase().endsWith('.ndjson')) throw new DashboardsUsageError(`--file must be an .ndjson file, as export writes it (got ${file})`);
    let ndjson: string;
    try {
      ndjson = await readFile(file, 'utf8');
    } catch (e) {
      throw new UserError(`cannot read ${file}: ${(e as Error).message}`);
    }
    if (objectsInNdjson(ndjson).length === 0) throw new UserError(`${file} holds no saved objects (one JSON object with "id" and "type" a line)`);
    const flavour = flavourFlag ?? (amazonOpenSearchService ? 'opensearch' : 'kibana');
    return { url, flavour, ndjson, fileName: file.split(/[\\/]/).pop(), secret, region };
  }
  const flavour = flavourFlag ?? (amazonOpenSearchService ? 'opensearch' : flavourOf(settings!));
  return { url, flavour, ndjson: toNdjson(wafSavedObjects(settings!, flavour)), secret, region };
}

/** Which credentials the secret holds: basic auth when it has a username, else an API key (JSON or bare). */
function credentialsOf(secretString: string | undefined, secretArn: string): CredentialsConfig {
  let json: unknown;
  try {
    json = JSON.parse(secretString ?? '');
  } catch {
    json = undefined;
  }
  const basic = typeof json === 'object' && json !== null && 'username' in json;
  return { kind: basic ? 'basic' : 'apiKey', secretArn };
}

async function runImport(args: Args, io: DashboardsIo, deps: DashboardsDeps): Promise<number> {
  const plan = await planImport(args);
  const region = plan.region ?? 'us-east-1';
  let authenticate;
  if (plan.secret !== undefined) {
    const client = deps.secretsManager?.(region) ?? new SecretsManagerClient({ region });
    let secretString: string | undefined;
    try {
      secretString = (await client.send(new GetSecretValueCommand({ SecretId: plan.secret }))).SecretString;
    } catch (e) {
      if ((e as Error).name === 'ResourceNotFoundException') throw new UserError(`no secret ${plan.secret} in ${region}: check --secret and --region`);
      throw e;
    }
    const credentials = credentialsOf(secretString, plan.secret);
    if (credentials.kind === 'apiKey' && plan.flavour === 'opensearch') {
      io.stderr(printable(`cdk-waf-guard: secret ${plan.secret} holds no {"username", "password"}: OpenSearch Dashboards takes basic auth, not an API key`));
      return EXIT_RUNTIME;
    }
    try {
      authenticate = headerAuthenticator(parseCredentials(secretString, credentials));
    } catch (e) {
      // The secret's content, not the command line, is wrong.
      if (!(e instanceof ConfigError)) throw e;
      io.stderr(printable(`cdk-waf-guard: ${e.message} (basic auth: {"username": ..., "password": ...}; a Kibana API key: {"apiKey": ...} or the bare key)`));
      return EXIT_RUNTIME;
    }
  } else {
    authenticate = sigV4Authenticator('es', region, deps.awsCredentials ?? defaultProvider());
  }
  let result: ImportResult;
  try {
    result = await importSavedObjects({
      url: plan.url, flavour: plan.flavour, ndjson: plan.ndjson, fileName: plan.fileName, authenticate, signed: plan.secret === undefined,
    });
  } catch (e) {
    if (e instanceof SavedObjectsImportError) {
      io.stderr(printable(`cdk-waf-guard: ${e.message}`));
      return EXIT_RUNTIME;
    }
    throw e;
  }
  io.stdout(resultText(result, plan));
  return result.success ? 0 : EXIT_RUNTIME;
}

function resultText(result: ImportResult, plan: ImportPlan): string {
  const count = (outcome: string) => result.objects.filter((o) => o.outcome === outcome).length;
  const rows = result.objects.map((o) => [o.outcome.toUpperCase(), o.type, o.id, o.title ?? '', o.error ? o.error.message : '']);
  const dashboard = result.objects.find((o) => o.type === 'dashboard' && o.outcome !== 'failed');
  // Both products open a dashboard at the same path under their base URL.
  const base = importEndpoint(plan.url, plan.flavour, false).href.replace(/\/api\/saved_objects\/_import$/, '');
  return `${formatTable([['RESULT', 'TYPE', 'ID', 'TITLE', 'PROBLEM'], ...rows])}\n`
    + `${productName(plan.flavour)} at ${plan.url}: ${count('created')} created, ${count('updated')} updated, ${count('failed')} failed`
    + (dashboard ? `\nDashboard: ${base}/app/dashboards#/view/${encodeURIComponent(dashboard.id)}` : '');
}

/** Runs `dashboards <command> ...`; returns the exit status. */
export async function runDashboards(argv: readonly string[], io: DashboardsIo, deps: DashboardsDeps = {}): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      io.stdout(DASHBOARDS_USAGE);
      return command === undefined ? EXIT_USAGE : 0;
    }
    const args = parseArgs(rest);
    if (args.flags.has('--help') || args.flags.has('-h')) {
      io.stdout(DASHBOARDS_USAGE);
      return 0;
    }
    if (command === 'export') return await runExport(args, io);
    if (command === 'import') return await runImport(args, io, deps);
    throw new DashboardsUsageError(`unknown dashboards command "${command}"`);
  } catch (e) {
    const explained = explainAwsError(e, '--secret');
    if (explained) {
      io.stderr(printable(`cdk-waf-guard: ${explained.message}`));
      return explained.exitCode;
    }
    if (!(e instanceof UserError)) throw e;
    io.stderr(printable(`cdk-waf-guard: ${e.message}${e instanceof DashboardsUsageError ? `\n\n${DASHBOARDS_USAGE}` : ''}`));
    return EXIT_USAGE;
  }
}
