import { BlockRow } from './block-store';

export interface DigestInput {
  readonly guardName: string;
  readonly blocked: readonly BlockRow[];
  readonly wouldBlock: readonly BlockRow[];
  readonly released: readonly BlockRow[];
  readonly overCap: readonly BlockRow[];
}

export interface DigestMessage {
  readonly subject: string;
  readonly body: string;
  /** SNS message attributes, so subscribers can filter and programs can act without parsing the text. */
  readonly attributes: Record<string, { DataType: 'String' | 'Number'; StringValue: string }>;
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

function describe(row: BlockRow): string {
  return `  ${row.ip}  rule ${row.ruleId} (host ${row.host}): ${row.observed} requests in ${row.windowSeconds} s, threshold ${row.threshold}, until ${iso(row.blockedUntil)}`;
}

/** One message per sync run listing what changed; undefined when nothing did. */
export function renderDigest(input: DigestInput): DigestMessage | undefined {
  const { blocked, wouldBlock, released, overCap } = input;
  if (blocked.length + wouldBlock.length + released.length + overCap.length === 0) return undefined;
  const parts: string[] = [];
  if (blocked.length) parts.push(`${blocked.length} blocked`);
  if (wouldBlock.length) parts.push(`${wouldBlock.length} would be blocked`);
  if (released.length) parts.push(`${released.length} released`);
  if (overCap.length) parts.push(`${overCap.length} over the IP set limit`);
  // SNS subjects: at most 100 ASCII characters, no line breaks.
  const subject = `[${input.guardName}] ${parts.join(', ')}`.replace(/[^\x20-\x7e]/g, '?').slice(0, 100);
  const lines: string[] = [];
  if (blocked.length) lines.push('Blocked in WAF:', ...blocked.map(describe), '');
  if (wouldBlock.length) lines.push('Would be blocked (COUNT rules; WAF unchanged):', ...wouldBlock.map(describe), '');
  if (released.length) {
    lines.push('Released:', ...released.map((r) => `  ${r.ip}  rule ${r.ruleId} (host ${r.host}): block ended ${iso(r.blockedUntil)}`), '');
  }
  if (overCap.length) {
    lines.push(
      'NOT blocked: the WAF IP set is full (10,000 addresses); the most severe offenders were kept. Consider a',
      'shorter block period or a stricter rule. Left out:',
      ...overCap.slice(0, 50).map(describe),
      ...(overCap.length > 50 ? [`  ... and ${overCap.length - 50} more`] : []),
      '',
    );
  }
  lines.push(`Sent by ${input.guardName} (cdk-waf-guard).`);
  return {
    subject,
    body: lines.join('\n'),
    attributes: {
      guard: { DataType: 'String', StringValue: input.guardName },
      blocked: { DataType: 'Number', StringValue: String(blocked.length) },
      wouldBlock: { DataType: 'Number', StringValue: String(wouldBlock.length) },
      released: { DataType: 'Number', StringValue: String(released.length) },
      overCap: { DataType: 'Number', StringValue: String(overCap.length) },
    },
  };
}
