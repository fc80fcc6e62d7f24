import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { BlockRow } from '../../src/realtime-waf-guard/runtime/block-store';
import { escapeHtml, PAGE_SIZE, renderConsole, selectRows } from '../../src/realtime-waf-guard/runtime/console-render';
import { handleWidget, WidgetEvent } from '../../src/realtime-waf-guard/runtime/console-widget';
import { MANUAL_RULE_ID, OperatorActions } from '../../src/realtime-waf-guard/runtime/operator-actions';
import { BLOCKS_TABLE } from '../../src/realtime-waf-guard/table-schemas';
import { blockRow } from '../support/block-rows';
import { useLocalDynamo } from '../support/guard-setup';
import { Recorder } from '../support/recorders';

const T0 = 1_700_000_000_000;
const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:guard-console';
const dynamo = useLocalDynamo();

async function widget(rows: BlockRow[] = []) {
  const table = await dynamo().createTable('blocks', BLOCKS_TABLE);
  for (const r of rows) await dynamo().doc.send(new PutCommand({ TableName: table, Item: r }));
  const actions = new OperatorActions(dynamo().doc, table, () => T0 + 1000);
  const recorder = new Recorder();
  const call = (event: WidgetEvent) => handleWidget(event, { actions, guardName: 'shop', endpoint: ARN, log: recorder, now: () => T0 + 1000 });
  return { call, actions, recorder };
}

const form = (all: Record<string, string>) => ({ widgetContext: { forms: { all } } });

test('describe returns the widget documentation as markdown', async () => {
  const w = await widget();
  const text = await w.call({ describe: true });
  expect(text).toMatch(/^## Blocks of a cdk-waf-guard guard/);
  expect(text).toContain('CloudTrail records the IAM principal');
});

test('the Block button blocks the typed address with the operator and reason from the form, and lists it', async () => {
  const w = await widget();
  const html = await w.call({ action: 'block', ...form({ operator: 'Bob', reason: 'scraper', period: '2h', target: '203.0.113.5' }) });
  expect(html).toContain('<b>Done:</b> 203.0.113.5 blocked until');
  expect(html).toContain('<td><code>203.0.113.5</code></td><td>Blocked by hand</td><td>manual</td>');
  expect(html).toContain('<td>Bob (dashboard): scraper</td>');
  const [row] = await w.actions.rows();
  expect(row).toMatchObject({ ip: '203.0.113.5', ruleId: MANUAL_RULE_ID, manualBy: 'Bob', manualVia: 'dashboard', blockedUntil: T0 + 1000 + 7_200_000 });
});

test('row buttons call the function with their client, after a confirmation naming it', async () => {
  const w = await widget([blockRow('198.51.100.7', T0), blockRow('198.51.100.8', T0, { action: 'COUNT' })]);
  const html = await w.call({});
  expect(html).toContain(`<cwdb-action action="call" endpoint="${ARN}" display="widget" confirmation="Unblock 198.51.100.7 (every rule) now`);
  expect(html).toContain('{&quot;action&quot;:&quot;unblock&quot;,&quot;target&quot;:&quot;198.51.100.7&quot;,&quot;page&quot;:1}</cwdb-action>');
  // a dry-run catch can be dismissed but not extended
  const countRow = html.split('\n').find((l) => l.includes('198.51.100.8'))!;
  expect(countRow).toContain('Dismiss');
  expect(countRow).not.toContain('Extend');
  const unblocked = await w.call({ action: 'unblock', target: '198.51.100.7', ...form({ operator: 'Bob', reason: 'customer', shield: '1h' }) });
  expect(unblocked).toContain('<b>Done:</b> 198.51.100.7 (rule api) unblocked');
  expect(unblocked).not.toContain('<code>198.51.100.7</code>');
});

test('a missing name or reason is refused and shown, and nothing changes', async () => {
  const w = await widget([blockRow('198.51.100.7', T0)]);
  const html = await w.call({ action: 'unblock', target: '198.51.100.7', ...form({ operator: '', reason: 'x' }) });
  expect(html).toContain('<b>Not done:</b> operator name is required');
  expect((await w.actions.rows())[0].manualAction).toBeUndefined();
});

test('every value typed by people or read from the table is escaped', async () => {
  const evil = '<img src=x onerror=alert(1)>';
  const w = await widget([blockRow('198.51.100.7', T0, { ruleId: evil, host: `"${evil}`, manualBy: evil, manualReason: '</td><script>x</script>' })]);
  const html = await w.call({ action: 'block', ...form({ operator: evil, reason: 'r', target: evil }) });
  expect(html).toContain('<td>&lt;img src=x onerror=alert(1)&gt;</td>');
  expect(html).toContain('&lt;/td&gt;&lt;script&gt;x&lt;/script&gt;');
  expect(html).not.toContain('<img');
  expect(html).not.toContain('<script>');
  const filtered = await w.call({ ...form({ filter: '"><i>x' }) });
  expect(filtered).toContain('value="&quot;&gt;&lt;i&gt;x"');
  expect(filtered).not.toContain('<i>');
  expect(escapeHtml('<>&"\'`')).toBe('&lt;&gt;&amp;&quot;&#39;&#96;');
});

test('more than 100 rows are paged', async () => {
  const rows = Array.from({ length: 230 }, (_, i) => blockRow(`10.0.${Math.floor(i / 200)}.${i % 200}`, T0 + i));
  const selected = selectRows(rows, {}, T0 + 1000);
  const page = (n: number) => renderConsole({ guardName: 'shop', endpoint: ARN, rows: selected, page: n, nowMs: T0 + 1000, form: {} });
  const count = (html: string) => (html.match(/<tr><td><code>/g) ?? []).length;
  expect(count(page(1))).toBe(PAGE_SIZE);
  expect(page(1)).toContain('Page 1 of 3 (230 rows)');
  expect(page(1)).toContain('{&quot;page&quot;:2}');
  expect(page(1)).not.toContain('Previous');
  expect(count(page(3))).toBe(30);
  expect(page(3)).not.toContain('>Next<');
  // newest decision first
  expect(page(1)).toMatch(/^[\s\S]*?<code>10\.0\.1\.29<\/code>/);
});

test('filters: text, dry-run catches, blocks by hand', () => {
  const rows = [
    blockRow('198.51.100.1', T0),
    blockRow('198.51.100.2', T0, { action: 'COUNT', ruleId: 'login', host: 'www.example.com' }),
    blockRow('203.0.113.0/24', T0, { ruleId: MANUAL_RULE_ID, host: '*' }),
    blockRow('198.51.100.3', T0 - 600_000),
  ];
  const ips = (f: Parameters<typeof selectRows>[1]) => selectRows(rows, f, T0 + 1000).map((r) => r.ip);
  expect(ips({})).toEqual(['198.51.100.1', '198.51.100.2', '203.0.113.0/24']);
  expect(ips({ state: 'would-block' })).toEqual(['198.51.100.2']);
  expect(ips({ state: 'active' })).toEqual(['198.51.100.1', '203.0.113.0/24']);
  expect(ips({ state: 'manual' })).toEqual(['203.0.113.0/24']);
  expect(ips({ text: 'WWW.example' })).toEqual(['198.51.100.2']);
  expect(ips({ rule: 'api', ip: '198.51' })).toEqual(['198.51.100.1']);
});
