import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { nagFindings, synthGuard } from './construct-fixtures';
import { Counting } from '../../src';

/** The dashboard's body with its tokens resolved enough to read: CloudFormation joins it from parts. */
function dashboardBody(template: Template): { widgets: Array<{ type: string; properties: Record<string, any> }> } {
  const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as Array<{ Properties: { DashboardBody: any } }>;
  // Tokens sit inside JSON strings; each becomes the logical id it refers to.
  const name = (part: any): string => part.Ref ?? part['Fn::GetAtt']?.[0] ?? 'token';
  const body = dashboard.Properties.DashboardBody['Fn::Join'][1].map((part: unknown) => (typeof part === 'string' ? part : name(part))).join('');
  return JSON.parse(body);
}

test('the guard has an operator dashboard by default, with the custom widget, graphs, alarms and decisions', () => {
  const { guard, template } = synthGuard({ guardName: 'shop', maxNewBlocksPerMinute: 30 });
  expect(guard.dashboard).toBeDefined();
  expect(guard.consoleFunction).toBeDefined();
  const widgets = dashboardBody(template).widgets;
  const titles = widgets.map((w) => w.properties.title).filter(Boolean);
  expect(titles).toEqual(expect.arrayContaining([
    'Blocks and dry-run catches', 'Requests processed (logged lines)', 'Blocks, would-blocks and releases per minute',
    'New-block budget use per minute', 'Blocks and would-blocks per rule per minute', 'Releases per rule per minute',
    'Active blocks', 'Malformed log lines', 'Processing lag (ms)', 'Sync errors', 'Operational alarms',
    'Decisions of the last day (use a 1-day range)',
  ]));
  const custom = widgets.find((w) => w.type === 'custom')!;
  expect(custom.properties.endpoint).toContain('ConsoleWidget');
  const alarms = widgets.find((w) => w.properties.title === 'Operational alarms')!;
  expect(alarms.properties.alarms).toHaveLength(guard.alarms.length);
  const budget = widgets.find((w) => w.properties.title === 'New-block budget use per minute')!;
  expect(budget.properties.annotations.horizontal[0].value).toBe(30);
  const active = widgets.find((w) => w.properties.title === 'Active blocks')!;
  expect(JSON.stringify(active.properties.metrics)).toContain('ActiveBlocksProxied');
  const text = widgets.find((w) => w.type === 'text')!;
  expect(text.properties.markdown).toContain('[History table](https://us-east-1.console.aws.amazon.com/dynamodbv2/home?region=us-east-1#item-explorer?table=');
});

test('with LOCAL_FIRST counting the dashboard shows what is held in memory and the counter-write failures; not with EXACT', () => {
  const titles = (counting?: Counting) => dashboardBody(synthGuard({ counting }).template).widgets.map((w) => w.properties.title);
  const held = dashboardBody(synthGuard().template).widgets.find((w) => w.properties.title === 'Clients held in memory (largest environment)');
  expect(JSON.stringify(held?.properties.metrics)).toContain('HeldPairs');
  expect(titles()).toEqual(expect.arrayContaining(['Counter writes failed, and counts dropped', 'Records delivered again, skipped']));
  expect(titles(Counting.EXACT)).not.toContain('Clients held in memory (largest environment)');
  expect(titles(Counting.EXACT)).not.toContain('Counter writes failed, and counts dropped');
});

test('the widget function may only scan and write the blocks table', () => {
  const { template, stack } = synthGuard();
  const roles = template.findResources('AWS::IAM::Role', { Properties: { Description: Match.stringLikeRegexp('for its dashboard') } });
  expect(Object.keys(roles)).toHaveLength(1);
  const roleId = Object.keys(roles)[0];
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p: any) => p.Properties.Roles.some((r: any) => r.Ref === roleId));
  const statements = policies.flatMap((p: any) => p.Properties.PolicyDocument.Statement);
  const resolved = statements.map((s: any) => ({ actions: [s.Action].flat().sort(), resources: JSON.stringify(stack.resolve(s.Resource)) }));
  const tableStatements = resolved.filter((s) => s.actions.some((a: string) => a.startsWith('dynamodb:')));
  expect(tableStatements).toEqual([{ actions: ['dynamodb:PutItem', 'dynamodb:Scan', 'dynamodb:UpdateItem'], resources: expect.stringContaining('BlocksTable') }]);
  // nothing else but writing its own logs
  expect(resolved.filter((s) => !s.actions.some((a: string) => a.startsWith('dynamodb:'))).flatMap((s) => s.actions).every((a: string) => a.startsWith('logs:'))).toBe(true);
  template.hasResourceProperties('AWS::Lambda::Function', {
    Description: Match.stringLikeRegexp('for its dashboard'),
    Environment: { Variables: Match.objectLike({ BLOCKS_TABLE_NAME: Match.anyValue(), HISTORY_TABLE_URL: Match.anyValue() }) },
  });
});

test('the log processor may query the blocks table for shields and run-time allow-list rows', () => {
  const { template } = synthGuard();
  const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
  expect(statements.some((s: any) => [s.Action].flat().includes('dynamodb:Query'))).toBe(true);
});

test('dashboard: false leaves the dashboard and its function out', () => {
  const { guard, template } = synthGuard({ dashboard: false });
  expect(guard.dashboard).toBeUndefined();
  expect(guard.consoleFunction).toBeUndefined();
  template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
  expect(Object.keys(template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('for its dashboard') } }))).toHaveLength(0);
});

test('the dashboard and its function are cdk-nag clean', () => {
  const { stack } = synthGuard({ guardName: 'shop' });
  expect(nagFindings(stack as Stack)).toEqual([]);
});
