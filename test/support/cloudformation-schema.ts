import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { SchemaValidator, StandardDiagnostic, TemplateFile } from '@aws/cloudformation-validate';

/**
 * Checks synthesized templates against the CloudFormation resource schemas, offline, with the validator newer
 * aws-cdk-lib releases run at synth time. The library builds with an aws-cdk-lib that does not, so a name or
 * description that breaks a schema pattern or length would otherwise only fail at deploy time.
 */

/** Resource types the library creates (and the distribution it attaches to); diagnostics on others are not ours. */
export const CHECKED_TYPE_PREFIXES = [
  'AWS::WAFv2::', 'AWS::Kinesis::', 'AWS::DynamoDB::', 'AWS::Lambda::', 'AWS::CloudWatch::', 'AWS::Logs::',
  'AWS::SNS::', 'AWS::SQS::', 'AWS::Events::', 'AWS::IAM::', 'AWS::KMS::', 'AWS::CloudFront::',
  // The monitor's collector gets a security group of its own when it runs in a VPC.
  'AWS::EC2::SecurityGroup',
];

/** One schema violation, with the offending value so a failure message says what to fix without a debugger. */
export interface SchemaFinding {
  readonly logicalId: string;
  readonly resourceType: string;
  readonly property: string;
  readonly value: unknown;
  readonly ruleId: string;
  readonly message: string;
}

/**
 * Whether a diagnostic means CloudFormation (or the resource provider) would reject the template.
 *
 * The validator's schema rules (category "Schema": F3002 additional property, F3003 required, F3012 type, F3031
 * pattern, F3033 length, F3034 numeric range, W3030 enum, E3030 value, ...) come straight from the provider schemas
 * and are the deploy-time checks this file exists for, so every one counts whatever its severity: an enum mismatch
 * is only a WARN there yet fails the deployment. Any other ERROR or FATAL (e.g. E2531, a Lambda runtime that can no
 * longer be created) also fails a deployment and counts. What remains is advice - best practice and security
 * lint (I9040 untagged resource, I9001 create-only property, W9003 type coercion CloudFormation performs itself,
 * W9013 account id in an ARN) - which would flag deliberate choices and say nothing about validity.
 */
export function isSchemaViolation(d: StandardDiagnostic): boolean {
  return d.category === 'Schema' || d.severity === 'ERROR' || d.severity === 'FATAL';
}

let validator: SchemaValidator | undefined;

/** Compiling the 1,700+ bundled schemas takes seconds: one validator serves a whole test file. */
function sharedValidator(): SchemaValidator {
  validator ??= new SchemaValidator();
  return validator;
}

/** Releases the validator's WebAssembly memory; call from afterAll. */
export function freeSchemaValidator(): void {
  validator?.free();
  validator = undefined;
}

/** Every diagnostic of the validator's schema rule set, lint included. */
export function validateTemplate(template: any, region = 'us-east-1'): StandardDiagnostic[] {
  // The validator reads templates from files only.
  const dir = mkdtempSync(join(tmpdir(), 'cfn-schema-'));
  try {
    const file = join(dir, 'template.json');
    writeFileSync(file, JSON.stringify(template));
    return sharedValidator().validate(new TemplateFile(file), region);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every schema violation of the template's resources of the checked types, in template order. */
export function schemaFindings(template: any, region = 'us-east-1'): SchemaFinding[] {
  const resources: Record<string, any> = template.Resources ?? {};
  return validateTemplate(template, region)
    .filter(isSchemaViolation)
    .filter((d) => {
      const type = d.entity?.resourceType ?? resources[d.entity?.logicalId ?? '']?.Type ?? '';
      // A finding on no resource (template structure) is always ours: the library produced the whole template.
      return d.entity?.entityType !== 'Resource' || CHECKED_TYPE_PREFIXES.some((prefix) => type.startsWith(prefix));
    })
    .map((d) => {
      const logicalId = d.entity?.logicalId ?? '(template)';
      const resource = resources[logicalId];
      return {
        logicalId,
        resourceType: d.entity?.resourceType ?? resource?.Type ?? '',
        property: d.propertyPath ?? '',
        value: valueAt(resource, d.propertyPath),
        ruleId: d.ruleId,
        message: d.message,
      };
    });
}

/** One line per finding: what the lead needs to find and fix it. */
export function formatFindings(findings: readonly SchemaFinding[]): string[] {
  return findings.map((f) => {
    const value = JSON.stringify(f.value);
    const shown = value !== undefined && value.length > 300 ? `${value.slice(0, 300)}... (${value.length} chars)` : value;
    return `${f.logicalId} (${f.resourceType}) ${f.property} = ${shown}: ${f.ruleId} ${f.message}`;
  });
}

/** The value at a dotted path such as `Properties.Dimensions.0.Value`. */
function valueAt(resource: any, path: string | undefined): unknown {
  if (resource === undefined || path === undefined) return undefined;
  return path.split('.').reduce<any>((node, key) => (node === undefined || node === null ? undefined : node[key]), resource);
}

/**
 * The CloudWatch limits the validator cannot see: the dashboard body is one JSON string to the schema, and the
 * schema of AWS::CloudWatch::Dashboard states no rule for DashboardName. Limits from the CloudWatch API Reference:
 * PutDashboard (DashboardName: alphanumerics, "-" and "_", at most 255), Metric and Dimension (Namespace and
 * MetricName 1 to 255 characters, Namespace not starting with ":"; dimension Name 1 to 255, Value 1 to 1024) and
 * MetricDataQuery (Expression at most 2048 characters); a dashboard graph takes up to 500 metrics (CloudWatch service
 * quotas). Deploy-time values (Ref, GetAtt) count as a short placeholder.
 */
export function dashboardProblems(template: any): string[] {
  const problems: string[] = [];
  for (const [logicalId, resource] of Object.entries<any>(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::CloudWatch::Dashboard') continue;
    const at = (what: string) => `${logicalId} (AWS::CloudWatch::Dashboard) ${what}`;
    const name = resource.Properties?.DashboardName;
    if (typeof name === 'string' && !/^[A-Za-z0-9_-]{1,255}$/.test(name)) {
      problems.push(at(`DashboardName = ${JSON.stringify(name)} (${name.length} chars): must be 1 to 255 of A-Z a-z 0-9 _ -`));
    }
    const body = bodyText(resource.Properties?.DashboardBody);
    let parsed: any;
    try {
      parsed = JSON.parse(body);
    } catch (error) {
      problems.push(at(`DashboardBody is not JSON: ${(error as Error).message}`));
      continue;
    }
    (parsed.widgets ?? []).forEach((widget: any, w: number) => {
      const metrics: unknown[] = widget.properties?.metrics ?? [];
      const where = `DashboardBody widgets[${w}]`;
      if (metrics.length > 500) problems.push(at(`${where} has ${metrics.length} metrics, over 500`));
      metrics.forEach((row, m) => {
        if (!Array.isArray(row)) return;
        for (const problem of metricRowProblems(row)) problems.push(at(`${where}.metrics[${m}] ${problem}`));
      });
    });
  }
  return problems;
}

/** A widget metric row: `[namespace, metricName, dimName, dimValue, ..., {options}]` or `[{expression, ...}]`. */
function metricRowProblems(row: unknown[]): string[] {
  const problems: string[] = [];
  const options = row.find((x) => typeof x === 'object' && x !== null) as { expression?: string } | undefined;
  const strings = row.filter((x): x is string => typeof x === 'string');
  const check = (what: string, value: string, max: number, pattern?: RegExp) => {
    if (value.length < 1 || value.length > max || (pattern && !pattern.test(value))) {
      problems.push(`${what} = ${JSON.stringify(value)} (${value.length} chars): must be 1 to ${max} characters${pattern ? ` matching ${pattern}` : ''}`);
    }
  };
  if (options?.expression !== undefined) check('expression', options.expression, 2048);
  if (strings.length === 0) return problems;
  // "..." repeats the previous row's value at that position: nothing new to check.
  const [namespace, metricName, ...dimensions] = strings;
  if (namespace !== '...') check('namespace', namespace, 255, /^[^:]/);
  if (metricName !== undefined && metricName !== '...') check('metric name', metricName, 255);
  for (let i = 0; i + 1 < dimensions.length; i += 2) {
    if (dimensions[i] !== '...') check('dimension name', dimensions[i], 255);
    if (dimensions[i + 1] !== '...') check(`dimension ${dimensions[i]} value`, dimensions[i + 1], 1024);
  }
  return problems;
}

/** The body as CloudWatch would receive it, with every deploy-time value replaced by a placeholder. */
function bodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  const fnJoin = (body as any)?.['Fn::Join'];
  if (Array.isArray(fnJoin)) return (fnJoin[1] as unknown[]).map((part) => (typeof part === 'string' ? part : 'TOKEN')).join(fnJoin[0]);
  return JSON.stringify(body);
}
