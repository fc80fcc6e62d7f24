import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { expectSynthError, synthGuard } from './construct-fixtures';
import { ENV } from '../../src/realtime-waf-guard/handler-env';
import { BlockRow } from '../../src/realtime-waf-guard/runtime/block-store';
import { operatorSettingsFromEnv } from '../../src/realtime-waf-guard/runtime/config';
import { handleWidget, WidgetEvent } from '../../src/realtime-waf-guard/runtime/console-widget';
import { MANUAL_RULE_ID, OperatorActions } from '../../src/realtime-waf-guard/runtime/operator-actions';
import { BLOCKS_TABLE } from '../../src/realtime-waf-guard/table-schemas';
import { blockRow } from '../support/block-rows';
import { useLocalDynamo } from '../support/guard-setup';
import { Recorder } from '../support/recorders';

/** The console widget and the construct: unblock ends only what was named; allow-list entries are as narrow as blocks. */
const T0 = 1_700_000_000_000;
const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:guard-console';
const dynamo = useLocalDynamo();

async function widget(rows: BlockRow[], env: Record<string, string> = {}) {
  const table = await dynamo().createTable('blocks', BLOCKS_TABLE);
  for (const r of rows) await dynamo().doc.send(new PutCommand({ TableName: table, Item: r }));
  const actions = new OperatorActions(dynamo().doc, table, () => T0 + 1000, operatorSettingsFromEnv(env));
  const call = (event: WidgetEvent) => handleWidget(event, { actions, guardName: 'shop', endpoint: ARN, log: new Recorder(), now: () => T0 + 1000 });
  const inForce = async () => ((await dynamo().doc.send(new ScanCommand({ TableName: table }))).Items as BlockRow[])
    .filter((r) => r.blockedUntil > T0 + 1000).map((r) => `${r.ip} ${r.ruleId}`).sort();
  return { call, inForce };
}

const form = { widgetContext: { forms: { all: { operator: 'Bob', reason: 'a customer', period: '1d', shield: '1h' } } } };
/** The JSON a button sends, as it appears in the widget's HTML. */
const button = (params: Record<string, unknown>) => JSON.stringify(params).replace(/"/g, '&quot;');
const manual16 = blockRow('203.0.0.0/16', T0 - 60_000, { ruleId: MANUAL_RULE_ID, blockedUntil: T0 + 86_400_000, manualBy: 'Ann', manualReason: 'botnet', manualVia: 'cli' });

test('unblocking an address inside a wider block ends nothing, says so, and offers both choices as buttons', async () => {
  const w = await widget([manual16]);
  const html = await w.call({ action: 'unblock', target: '203.0.113.7', ...form });
  expect(html).toContain('<b>Not done:</b> 203.0.113.7 lies inside 203.0.0.0/16 (manual block), left in force');
  expect(html).toContain(`>End the block of 203.0.0.0/16</a><cwdb-action action="call" endpoint="${ARN}" display="widget"`);
  expect(html).toContain(button({ action: 'unblock', target: '203.0.0.0/16', page: 1 }));
  expect(html).toContain('>Allow-list 203.0.113.7</a>');
  expect(html).toContain(button({ action: 'allow', target: '203.0.113.7', page: 1 }));
  expect(await w.inForce()).toEqual(['203.0.0.0/16 #manual']);

  // The allow-list choice, pressed: the address is allow-listed for the form's period; the /16 is still a block.
  expect(await w.call({ action: 'allow', target: '203.0.113.7', ...form })).toContain('<b>Done:</b> 203.0.113.7/32 allow-listed until');
  expect(await w.inForce()).toEqual(['#allow ALLOW#203.0.113.7', '203.0.0.0/16 #manual']);
  // The other choice, pressed: the /16 ends.
  expect(await w.call({ action: 'unblock', target: '203.0.0.0/16', ...form })).toContain('<b>Done:</b> 203.0.0.0/16 (manual block) unblocked');
});

test.each(['0.0.0.0/1', '128.0.0.0/1', '::/1', '8000::/1'])('the widget refuses to allow-list %s', async (target) => {
  const w = await widget([]);
  const html = await w.call({ action: 'allow', target, ...form });
  expect(html).toMatch(/<b>Not done:<\/b> .* is wider than \/(16|32): a few wide allow-list entries would switch the guard off/);
  expect(await w.inForce()).toEqual([]);
});

test('the widget follows the guard\'s settings from its environment', async () => {
  const w = await widget([blockRow('2001:db8:0:100::/56', T0 - 1000)], {
    [ENV.IPV6_PREFIX_LENGTH]: '56', [ENV.ALLOW_WIDEST_PREFIX_IPV4]: '8', [ENV.ALLOW_WIDEST_PREFIX_IPV6]: '32',
  });
  expect(await w.call({ action: 'unblock', target: '2001:db8:0:1ab::9', ...form })).toContain('<b>Done:</b> 2001:db8:0:100::/56 (rule api) unblocked');
  expect(await w.call({ action: 'allow', target: '10.0.0.0/8', ...form })).toContain('<b>Done:</b> 10.0.0.0/8 allow-listed');
  expect(() => operatorSettingsFromEnv({ [ENV.ALLOW_WIDEST_PREFIX_IPV4]: '0' })).toThrow('ALLOW_WIDEST_PREFIX_IPV4 must be a whole number from 1 to 32 (got 0)');
});

describe('construct', () => {
  const rule = { host: 'shop.example.com', threshold: 100, window: Duration.minutes(1) };

  test.each([
    [['0.0.0.0/1', '128.0.0.0/1'], /allowList\[0\]: 0\.0\.0\.0\/1 is wider than \/16; .* set allowListWidestPrefixIpv4 to 1 or lower if you mean it/],
    [['203.0.113.7', '8000::/1'], /allowList\[1\]: 8000::\/1 is wider than \/32; .* set allowListWidestPrefixIpv6 to 1 or lower/],
    [['10.0.0.0/8'], /allowList\[0\]: 10\.0\.0\.0\/8 is wider than \/16/],
  ])('allowList %j is refused at synth', (allowList, message) => {
    expectSynthError({ rules: [rule], allowList }, message);
  });

  test.each([0, 33, 1.5])('allowListWidestPrefixIpv4 %p is refused', (allowListWidestPrefixIpv4) => {
    expectSynthError({ allowListWidestPrefixIpv4 }, /allowListWidestPrefixIpv4 must be a whole number from 1 to 32/);
  });

  test('widened on purpose, wide entries are accepted and the console widget gets the limits and the IPv6 prefix length', () => {
    const { template } = synthGuard({
      rules: [rule], allowList: ['10.0.0.0/8'], allowListWidestPrefixIpv4: 8, allowListWidestPrefixIpv6: 28, ipv6PrefixLength: 56,
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('for its dashboard'),
      Environment: {
        Variables: Match.objectLike({ [ENV.IPV6_PREFIX_LENGTH]: '56', [ENV.ALLOW_WIDEST_PREFIX_IPV4]: '8', [ENV.ALLOW_WIDEST_PREFIX_IPV6]: '28' }),
      },
    });
  });
});
