import { AspectPriority, Aspects, Duration, Fn, Stage } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { BlockRulesCheck } from './block-rules-check';
import { allowPublish, allowTableActions } from './guard-iam';
import { commonEnvironment, GuardSettings } from './guard-settings';
import { GuardTables } from './guard-tables';
import { integerInRange } from './guard-validation';
import { ENV, SYNC_TIMEOUT_SECONDS } from './handler-env';
import { IpSetSyncFunction } from './ip-set-sync-function';
import { cloudFrontDomainStatement, managedGroupRule, visibility } from './waf-rules';
import { limitLength, wafDescription } from '../shared/cfn-text';
import { handlerDefaults, pinnedRuntime } from '../shared/handler-defaults';
import { suppressNag } from '../shared/nag';

export interface WafEnforcementProps {
  readonly settings: GuardSettings;
  readonly tables: GuardTables;
  readonly alertTopic: sns.ITopic;
  readonly deadLetterQueue: sqs.IQueue;
  /** Path of the guard, for descriptions. */
  readonly guardPath: string;
}

/**
 * Enforcement: the WAF IP sets, the single writer that keeps them in line with the blocks table (releasing ended
 * blocks, writing history, alerting), and the guard's WebACL.
 */
export class WafEnforcement extends Construct {
  public readonly ipv4Set: wafv2.CfnIPSet;
  public readonly ipv6Set: wafv2.CfnIPSet;
  /** Blocked clients matched on their forwarded address behind trusted proxies (every route, see planIpSets). */
  public readonly forwardedIpv4Set?: wafv2.CfnIPSet;
  public readonly forwardedIpv6Set?: wafv2.CfnIPSet;
  /** The trusted proxies' own CIDRs, one set per address family they use. */
  public readonly trustedProxySets: wafv2.CfnIPSet[] = [];
  public readonly ipSetSync: lambda.IFunction;
  public readonly webAcl?: wafv2.CfnWebACL;
  private readonly settings: GuardSettings;

  constructor(scope: Construct, id: string, props: WafEnforcementProps) {
    super(scope, id);
    const { settings, tables } = props;
    this.settings = settings;
    this.ipv4Set = this.ipSet('Ipv4Set', 'IPV4');
    this.ipv6Set = this.ipSet('Ipv6Set', 'IPV6');
    if (settings.trustedProxies.length > 0) {
      this.forwardedIpv4Set = this.ipSet('ForwardedIpv4Set', 'IPV4');
      this.forwardedIpv6Set = this.ipSet('ForwardedIpv6Set', 'IPV6');
      for (const [family, version] of [['.', 'IPV4'], [':', 'IPV6']] as const) {
        const addresses = settings.trustedProxies.filter((c) => c.includes(family));
        if (addresses.length === 0) continue;
        this.trustedProxySets.push(new wafv2.CfnIPSet(this, `TrustedProxies${version === 'IPV4' ? 'Ipv4' : 'Ipv6'}Set`, {
          scope: 'CLOUDFRONT',
          ipAddressVersion: version,
          addresses,
          description: 'Trusted proxies of cdk-waf-guard: only their requests are matched on X-Forwarded-For',
        }));
      }
    }
    const written = [this.ipv4Set, this.ipv6Set, ...(this.forwardedIpv4Set ? [this.forwardedIpv4Set, this.forwardedIpv6Set!] : [])];

    const sync = handlerDefaults(this, 'IpSetSync', {
      description: 'Rebuilds the WAF IP sets from the block table, releases expired blocks and sends alert digests',
      logRetention: settings.logRetention,
      removalPolicy: settings.removalPolicy,
      timeout: Duration.seconds(SYNC_TIMEOUT_SECONDS),
      environment: {
        ...commonEnvironment(settings),
        [ENV.BLOCKS_TABLE]: tables.blocks.tableName,
        [ENV.HISTORY_TABLE]: tables.history.tableName,
        [ENV.WAF_SCOPE]: 'CLOUDFRONT',
        [ENV.IPV4_SET_NAME]: ipSetName(this.ipv4Set),
        [ENV.IPV4_SET_ID]: this.ipv4Set.attrId,
        [ENV.IPV6_SET_NAME]: ipSetName(this.ipv6Set),
        [ENV.IPV6_SET_ID]: this.ipv6Set.attrId,
        ...(this.forwardedIpv4Set && this.forwardedIpv6Set ? {
          [ENV.FORWARDED_IPV4_SET_NAME]: ipSetName(this.forwardedIpv4Set),
          [ENV.FORWARDED_IPV4_SET_ID]: this.forwardedIpv4Set.attrId,
          [ENV.FORWARDED_IPV6_SET_NAME]: ipSetName(this.forwardedIpv6Set),
          [ENV.FORWARDED_IPV6_SET_ID]: this.forwardedIpv6Set.attrId,
        } : {}),
        // No block may cover a trusted proxy: the sync keeps such a block out of the sets and says so.
        [ENV.TRUSTED_PROXIES]: settings.trustedProxies.join(','),
        [ENV.MAX_SET_SIZE]: '10000',
        [ENV.TOPIC_ARN]: props.alertTopic.topicArn,
        [ENV.HISTORY_RETENTION_DAYS]: String(settings.historyDays),
      },
    });
    const ipSetSync = new IpSetSyncFunction(this, 'IpSetSync', {
      ...sync.functionOptions,
      // The single writer: WAF allows about one IP-set write per second, and one writer never loses an update.
      reservedConcurrentExecutions: 1,
    });
    suppressNag(ipSetSync, [pinnedRuntime()]);
    sync.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['wafv2:GetIPSet', 'wafv2:UpdateIPSet'],
      // Exactly the sets it writes: never the trusted proxies' set, which only the stack defines.
      resources: written.map((s) => s.attrArn),
    }));
    allowTableActions(sync.role, tables.blocks, 'dynamodb:Scan', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem');
    allowTableActions(sync.role, tables.history, 'dynamodb:PutItem');
    allowPublish(sync.role, props.alertTopic);
    ipSetSync.addEventSource(new sources.DynamoEventSource(tables.blocks, {
      startingPosition: lambda.StartingPosition.LATEST,
      batchSize: 100,
      maxBatchingWindow: Duration.seconds(1),
      bisectBatchOnError: true,
      retryAttempts: 3,
      onFailure: new sources.SqsDlq(props.deadLetterQueue),
      // Only rows not yet applied: the sync stamps notifiedAt on rows it has handled, which must not trigger it again.
      filters: [lambda.FilterCriteria.filter({
        eventName: lambda.FilterRule.or('INSERT', 'MODIFY'),
        // `exists` only works on leaf nodes: the leaf of a number attribute in a stream image is its `N`.
        // Rows whose alert failed carry retryAt and wait for the scheduled run, so a failing run cannot retrigger itself.
        dynamodb: { NewImage: { notifiedAt: { N: lambda.FilterRule.notExists() }, retryAt: { N: lambda.FilterRule.notExists() } } },
      }), lambda.FilterCriteria.filter({
        // An operator's unblock (or allow-list removal) ends an announced row: released within seconds, not at the sweep.
        eventName: lambda.FilterRule.isEqual('MODIFY'),
        dynamodb: {
          NewImage: {
            manualAction: { S: lambda.FilterRule.or('UNBLOCK', 'UNALLOW') },
            releasedAt: { N: lambda.FilterRule.notExists() },
            retryAt: { N: lambda.FilterRule.notExists() },
          },
        },
      }), lambda.FilterCriteria.filter({
        // A block in force that gained a route (its client came the other way): in that route's sets within seconds.
        eventName: lambda.FilterRule.isEqual('MODIFY'),
        dynamodb: {
          NewImage: {
            routeAddedAt: { N: lambda.FilterRule.exists() },
            releasedAt: { N: lambda.FilterRule.notExists() },
            retryAt: { N: lambda.FilterRule.notExists() },
          },
        },
      })],
    }));
    // Expiry does not wait for DynamoDB TTL (which may take days): a sweep every minute releases blocks on time.
    new events.Rule(this, 'ExpirySweep', {
      description: limitLength(`Releases expired blocks of ${props.guardPath}`, 512),
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(ipSetSync)],
    });
    suppressNag(sync.role.node.findChild('DefaultPolicy'), [{
      id: 'AwsSolutions-IAM5',
      reason: 'dynamodb:ListStreams, granted for the block table stream trigger, supports no resource-level permissions.',
      appliesTo: ['Resource::*'],
    }]);
    this.ipSetSync = ipSetSync;

    if (settings.createWebAcl) {
      const own = this.blockRules(0);
      this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
        scope: 'CLOUDFRONT',
        defaultAction: { allow: {} },
        description: wafDescription(`Blocks clients detected by ${props.guardPath}`),
        visibilityConfig: visibility(settings.guardName),
        rules: [...own, ...settings.managedRuleGroups.map((group, i) => managedGroupRule(group, own.length + i))],
      });
    }
    // Read-only, and after the app's own aspects: the WebACLs are final by then. Cross-stage references do not exist,
    // so the guard's stage holds every WebACL that can read its sets.
    const stage = Stage.of(this) ?? this.node.root;
    Aspects.of(stage).add(new BlockRulesCheck({
      // Below the guard: CDK finds an acknowledgement made before synth on an ancestor of the warning's construct only.
      warnOn: this,
      scope: stage,
      writtenSets: [
        { name: 'IPv4 set (ipv4Set)', set: this.ipv4Set },
        { name: 'IPv6 set (ipv6Set)', set: this.ipv6Set },
        ...(this.forwardedIpv4Set && this.forwardedIpv6Set ? [
          { name: 'forwarded IPv4 set (forwardedIpv4Set)', set: this.forwardedIpv4Set },
          { name: 'forwarded IPv6 set (forwardedIpv6Set)', set: this.forwardedIpv6Set },
        ] : []),
      ],
      ruleNames: this.blockRules(0).map((r) => r.name),
      ownWebAcl: this.webAcl !== undefined,
    }), { priority: AspectPriority.READONLY });
  }

  /** The block rules (and the backstop) with consecutive priorities from `firstPriority`. */
  public blockRules(firstPriority: number): wafv2.CfnWebACL.RuleProperty[] {
    integerInRange('firstPriority', firstPriority, 0, 1_000_000, 0);
    const guardName = this.settings.guardName;
    const rule = (suffix: string, priority: number, statement: wafv2.CfnWebACL.StatementProperty): wafv2.CfnWebACL.RuleProperty => ({
      name: `${guardName}-${suffix}`,
      priority,
      action: { block: {} },
      statement,
      visibilityConfig: visibility(`${guardName}-${suffix}`),
    });
    const rules = [
      rule('BlockedIPv4', firstPriority, { ipSetReferenceStatement: { arn: this.ipv4Set.attrArn } }),
      rule('BlockedIPv6', firstPriority + 1, { ipSetReferenceStatement: { arn: this.ipv6Set.attrArn } }),
    ];
    if (this.forwardedIpv4Set && this.forwardedIpv6Set) {
      rules.push(
        rule('BlockedForwardedIPv4', firstPriority + 2, this.forwardedStatement(this.forwardedIpv4Set)),
        rule('BlockedForwardedIPv6', firstPriority + 3, this.forwardedStatement(this.forwardedIpv6Set)),
      );
    }
    if (this.settings.backstop) rules.push(rule('RateBackstop', firstPriority + rules.length, { rateBasedStatement: this.settings.backstop }));
    if (this.settings.blockCloudFrontDomain) {
      rules.push(rule('CloudFrontDomain', firstPriority + rules.length, cloudFrontDomainStatement()));
    }
    return rules;
  }

  /**
   * A forwarded-address set applies only to requests whose source is a trusted proxy: from anywhere else the header
   * is whatever the client wrote, and must neither block nor shield anyone.
   *
   * Position LAST: the right-most X-Forwarded-For address is the one the trusted proxy appended, the peer it saw, and
   * the guard counts exactly that address (see resolveClient), so WAF enforces what the guard decided. ANY would also
   * match the addresses left of it, which the client (or an untrusted hop) wrote: a request naming a blocked address
   * there would be blocked, and private addresses written by unrelated networks collide; WAF reads only the last 10 and
   * applies the fallback when an address is not valid, both of which a client controls. FIRST is purely client-written.
   * Fallback NO_MATCH: a request without a valid address there is not blocked by this rule (the proxy is never blamed).
   */
  private forwardedStatement(set: wafv2.CfnIPSet): wafv2.CfnWebACL.StatementProperty {
    const fromProxy: wafv2.CfnWebACL.StatementProperty[] = this.trustedProxySets.map((s) => ({ ipSetReferenceStatement: { arn: s.attrArn } }));
    return {
      andStatement: {
        statements: [
          fromProxy.length === 1 ? fromProxy[0] : { orStatement: { statements: fromProxy } },
          {
            ipSetReferenceStatement: {
              arn: set.attrArn,
              ipSetForwardedIpConfig: { headerName: 'X-Forwarded-For', position: 'LAST', fallbackBehavior: 'NO_MATCH' },
            },
          },
        ],
      },
    };
  }

  private ipSet(id: string, ipAddressVersion: 'IPV4' | 'IPV6'): wafv2.CfnIPSet {
    return new wafv2.CfnIPSet(this, id, {
      scope: 'CLOUDFRONT',
      ipAddressVersion,
      addresses: [],
      // Constant on purpose: any change to the set's properties makes CloudFormation send its (empty) address list,
      // which unblocks everyone until the next sync (at most a minute).
      description: 'Clients blocked by cdk-waf-guard, written by the guard sync function only',
    });
  }
}

/** The IP set's name, from its Ref (`name|id|scope`): the set keeps the name CloudFormation generated. */
function ipSetName(set: wafv2.CfnIPSet): string {
  return Fn.select(0, Fn.split('|', set.ref));
}
