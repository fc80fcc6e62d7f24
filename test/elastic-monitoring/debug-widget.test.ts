import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createWidgetHandler } from '../../src/elastic-monitoring/debug-widget.lambda';
import { CHECKER_ARNS_ENV, CheckResult, Customer, DEBUG_CONFIG_ENV, DebugConfig, FrontDoor } from '../../src/elastic-monitoring/runtime/debug-checks';
import { describeWidget, escapeHtml, renderResults, renderWidget } from '../../src/elastic-monitoring/runtime/debug-widget-html';

const door: FrontDoor = { dnsNames: ['waf-123.elb.eu-west-1.amazonaws.com'], ipAddresses: ['192.0.2.10'], egressIpAddresses: [], port: 443, protocol: 'https' };
const app = (hostnames: string[]) => ({ hostnames, upstreamAddress: '10.0.0.5', upstreamPort: 443, upstreamProtocol: 'https' as const });
const endpoint = 'arn:aws:lambda:eu-west-1:111111111111:function:debug-widget';

/** The `<cwdb-action>` elements of the HTML, with their attributes and JSON bodies. */
function actions(html: string) {
  return [...html.matchAll(/<cwdb-action ([^>]*)>([^<]*)<\/cwdb-action>/g)].map((m) => ({
    attributes: Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((a) => [a[1], a[2]])),
    body: JSON.parse(m[2]),
  }));
}

describe('widget HTML', () => {
  test('a button per customer and check, each calling the widget function with just customer and check, with a confirmation', () => {
    const customers: Customer[] = [{ name: 'acme', apps: [app(['shop.test', 'www.shop.test'])] }, { name: 'globex', apps: [app(['g.test'])] }];
    const html = renderWidget(customers, endpoint, door);
    const found = actions(html);
    expect(found.map((a) => a.body)).toEqual([
      { customer: 'acme', check: 'waf' }, { customer: 'acme', check: 'upstream' }, { customer: 'acme', check: 'dns' },
      { customer: 'globex', check: 'waf' }, { customer: 'globex', check: 'upstream' }, { customer: 'globex', check: 'dns' },
    ]);
    for (const a of found) expect(a.attributes).toEqual(expect.objectContaining({ action: 'call', endpoint, display: 'popup' }));
    expect(found[0].attributes.confirmation).toBe('Run &quot;Through the WAF&quot; for acme (2 host(s))?');
    // every button is an element right before its action
    expect(html.match(/<a class="btn">[^<]+<\/a><cwdb-action/g)).toHaveLength(6);
    expect(html).not.toMatch(/<script/i);
  });

  test('every configured value is escaped; JSON bodies cannot close their element', () => {
    const evil = '<img src=x onerror=alert(1)>&"\'';
    const html = renderWidget([{ name: evil, apps: [app([`${evil}.test`])] }], `${endpoint}"><b>`, { ...door, dnsNames: [evil] });
    expect(html).not.toContain('<img');
    expect(html).not.toContain('"><b>');
    expect(html).toContain(escapeHtml(evil));
    const body = html.match(/<cwdb-action [^>]*>([^<]*)<\/cwdb-action>/)![1];
    expect(JSON.parse(body).customer).toBe(evil);
    expect(escapeHtml('<a href="x">\'&')).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;');
  });

  test('results: one row per host and place, reachable / status / latency / finding, escaped', () => {
    const rows: CheckResult[] = [
      { customer: 'acme', host: 'shop.test', check: 'upstream', location: 'outside', target: '10.0.0.5:443', reachable: true, status: 200, latencyMs: 12.4, finding: 'reachable <around> the WAF' },
      { customer: 'acme', host: 'shop.test', check: 'upstream', location: 'inside', target: '10.0.0.5:443', reachable: true, status: 200, latencyMs: 3, finding: '' },
    ];
    const html = renderResults(rows, ['checker outside: <oops>']);
    const cells = [...html.matchAll(/<tr>(.*?)<\/tr>/g)].slice(1).map((r) => [...r[1].matchAll(/<td>(.*?)<\/td>/g)].map((c) => c[1]));
    expect(cells).toEqual([
      ['shop.test', 'Direct to upstream', 'outside', '10.0.0.5:443', 'yes', '200', '12 ms', '<b>reachable &lt;around&gt; the WAF</b>'],
      ['shop.test', 'Direct to upstream', 'inside', '10.0.0.5:443', 'yes', '200', '3 ms', 'OK'],
    ]);
    expect(html).toContain('<p><b>checker outside: &lt;oops&gt;</b></p>');
  });

  test('a redirect shows its status and Location, escaped, and is never OK; a target not contacted says why', () => {
    const rows: CheckResult[] = [
      {
        customer: 'acme',
        host: 'shop.test',
        check: 'waf',
        location: 'inside',
        target: 'waf.test:443',
        reachable: true,
        status: 302,
        latencyMs: 4,
        redirectTo: 'https://login.test/?next=<script>',
        finding: 'the WAF answered HTTP 302, a redirect to https://login.test/?next=<script> (not followed): x',
      },
      {
        customer: 'acme',
        host: 'shop.test',
        check: 'upstream',
        location: 'outside',
        target: '10.0.0.5:443',
        reachable: false,
        latencyMs: 0,
        finding: '',
        notContacted: '10.0.0.5 is a private address (10.0.0.0/8): only the checker inside the VPC contacts private addresses',
      },
    ];
    const html = renderResults(rows, []);
    const cells = [...html.matchAll(/<tr>(.*?)<\/tr>/g)].slice(1).map((r) => [...r[1].matchAll(/<td>(.*?)<\/td>/g)].map((c) => c[1]));
    expect(cells[0][5]).toBe('302 redirect to https://login.test/?next=&lt;script&gt;');
    expect(cells[0][7]).toMatch(/^<b>the WAF answered HTTP 302, a redirect to https:\/\/login\.test\/\?next=&lt;script&gt; \(not followed\)/);
    expect(cells[1][7]).toBe('Not contacted: 10.0.0.5 is a private address (10.0.0.0/8): only the checker inside the VPC contacts private addresses');
    expect(html).not.toContain('<script>');
  });

  test('describe is Markdown naming every check', () => {
    const md = describeWidget();
    expect(md).toMatch(/^## WAF debugging checks/);
    for (const label of ['Through the WAF', 'Direct to upstream', 'DNS answers']) expect(md).toContain(`**${label}**`);
  });
});

describe('widget handler', () => {
  const lambda = mockClient(LambdaClient);
  beforeEach(() => lambda.reset());
  const config: DebugConfig = { customers: [{ name: 'acme', apps: [app(['shop.test'])] }], frontDoor: door, requestTimeoutMs: 1000, concurrency: 2 };
  const env = {
    [DEBUG_CONFIG_ENV]: JSON.stringify(config),
    [CHECKER_ARNS_ENV.inside]: 'arn:aws:lambda:eu-west-1:111111111111:function:inside',
    [CHECKER_ARNS_ENV.outside]: 'arn:aws:lambda:eu-west-1:111111111111:function:outside',
  };
  const logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const handler = createWidgetHandler({ env, lambda: new LambdaClient({ region: 'eu-west-1' }), logger });
  const context = { invokedFunctionArn: endpoint };

  test('describe returns Markdown; a render lists the customers with buttons calling this function', async () => {
    expect(await handler({ describe: true }, context)).toBe(describeWidget());
    const html = await handler({ widgetContext: { width: 1000 } }, context);
    expect(actions(html).map((a) => a.attributes.endpoint)).toEqual([endpoint, endpoint, endpoint]);
    expect(lambda.calls()).toHaveLength(0);
  });

  test('a button press invokes both checkers with exactly customer and check, and shows their rows', async () => {
    const row = (location: string): CheckResult => ({ customer: 'acme', host: 'shop.test', check: 'waf', location: location as any, target: 'waf:443', reachable: true, status: 200, latencyMs: 5, finding: '' });
    lambda.on(InvokeCommand).callsFake((input) => ({
      Payload: Buffer.from(JSON.stringify({ results: [row(input.FunctionName.endsWith('inside') ? 'inside' : 'outside')] })),
    }));
    const html = await handler({ widgetContext: {}, customer: 'acme', check: 'waf' }, context);
    const calls = lambda.commandCalls(InvokeCommand)
      .map((c) => [c.args[0].input.FunctionName, JSON.parse(Buffer.from(c.args[0].input.Payload as Uint8Array).toString())]);
    expect(calls.sort()).toEqual([
      [env[CHECKER_ARNS_ENV.inside], { customer: 'acme', check: 'waf' }],
      [env[CHECKER_ARNS_ENV.outside], { customer: 'acme', check: 'waf' }],
    ]);
    expect(html.match(/<td>(inside|outside)<\/td>/g)).toEqual(['<td>inside</td>', '<td>outside</td>']);
  });

  test('an unknown customer or check is refused without invoking anything; a failing checker is shown, not thrown', async () => {
    expect(await handler({ widgetContext: {}, customer: 'nobody', check: 'waf' }, context)).toContain('Refused: customer is not configured');
    expect(await handler({ widgetContext: {}, customer: 'acme', check: 'nmap' }, context)).toContain('Refused: check must be one of');
    expect(lambda.calls()).toHaveLength(0);
    lambda.on(InvokeCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const html = await handler({ widgetContext: {}, customer: 'acme', check: 'dns' }, context);
    expect(html).toContain('checker inside could not run: AccessDeniedException');
    expect(html).toContain('No results.');
  });
});
