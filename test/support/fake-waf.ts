import {
  GetIPSetCommand, GetIPSetCommandInput, GetIPSetCommandOutput, UpdateIPSetCommand, UpdateIPSetCommandInput,
  UpdateIPSetCommandOutput, WAFInvalidParameterException, WAFLimitsExceededException, WAFNonexistentItemException,
  WAFOptimisticLockException, WAFV2Client,
} from '@aws-sdk/client-wafv2';
import { mockClient } from 'aws-sdk-client-mock';
import { parseCidr } from '../../src/realtime-waf-guard/runtime/ip';

const meta = { $metadata: {} };

interface FakeSet {
  name: string;
  id: string;
  scope: string;
  version: 'IPV4' | 'IPV6';
  description?: string;
  addresses: string[];
  lockToken: string;
}

/**
 * WAFv2 IP sets with the service's rules: GetIPSet hands out a lock token, UpdateIPSet replaces the whole list and
 * fails with WAFOptimisticLockException on a stale token, a set holds at most 10,000 addresses of its own family,
 * /0 is refused, and the description is replaced like every other field.
 */
export class FakeWaf {
  public readonly sets = new Map<string, FakeSet>();
  public updates = 0;
  public lockConflicts = 0;
  /** Runs just before an UpdateIPSet is applied: lets a test slip in a concurrent writer. */
  public beforeUpdate?: (input: UpdateIPSetCommandInput) => Promise<void> | void;
  private tokenCounter = 0;

  public createSet(name: string, version: 'IPV4' | 'IPV6', description = 'managed by cdk-waf-guard'): { name: string; id: string } {
    const id = `${name}-id`;
    this.sets.set(id, { name, id, scope: 'CLOUDFRONT', version, description, addresses: [], lockToken: this.token() });
    return { name, id };
  }

  public addresses(id: string): string[] {
    return [...this.find(id, undefined).addresses];
  }

  public getIpSet(input: GetIPSetCommandInput): GetIPSetCommandOutput {
    const set = this.find(input.Id!, input.Name, input.Scope);
    return {
      ...meta,
      IPSet: { Name: set.name, Id: set.id, ARN: `arn:aws:wafv2:us-east-1:123456789012:global/ipset/${set.name}/${set.id}`, Description: set.description, IPAddressVersion: set.version, Addresses: [...set.addresses] },
      LockToken: set.lockToken,
    };
  }

  public async updateIpSet(input: UpdateIPSetCommandInput): Promise<UpdateIPSetCommandOutput> {
    await this.beforeUpdate?.(input);
    const set = this.find(input.Id!, input.Name, input.Scope);
    if (input.LockToken !== set.lockToken) {
      this.lockConflicts++;
      throw new WAFOptimisticLockException({ ...meta, message: 'AWS WAF couldn’t save your changes because you tried to update or delete a resource that has changed since you last retrieved it.' });
    }
    const addresses = input.Addresses ?? [];
    if (addresses.length > 10_000) {
      throw new WAFLimitsExceededException({ ...meta, message: `IP set ${set.name} would hold ${addresses.length} addresses; the limit is 10000` });
    }
    for (const a of addresses) {
      const cidr = parseCidr(a);
      if (typeof cidr === 'string' || !a.includes('/') || (cidr.family === 4) !== (set.version === 'IPV4')) {
        throw new WAFInvalidParameterException({ ...meta, message: `invalid address ${a} for an ${set.version} set`, Field: 'IP_ADDRESS' });
      }
    }
    set.addresses = [...addresses];
    set.description = input.Description;
    set.lockToken = this.token();
    this.updates++;
    return { ...meta, NextLockToken: set.lockToken };
  }

  /** Routes every WAFV2Client in this process to the fake. */
  public install(): ReturnType<typeof mockClient> {
    const mock = mockClient(WAFV2Client);
    mock.on(GetIPSetCommand).callsFake((input: GetIPSetCommandInput) => this.getIpSet(input));
    mock.on(UpdateIPSetCommand).callsFake((input: UpdateIPSetCommandInput) => this.updateIpSet(input));
    return mock;
  }

  private find(id: string, name: string | undefined, scope?: string): FakeSet {
    const set = this.sets.get(id);
    if (!set || (name !== undefined && set.name !== name) || (scope !== undefined && set.scope !== scope)) {
      throw new WAFNonexistentItemException({ ...meta, message: `AWS WAF couldn’t perform the operation because your resource doesn’t exist: ${name}/${id}` });
    }
    return set;
  }

  private token(): string {
    return `token-${++this.tokenCounter}-${Math.random().toString(36).slice(2, 8)}`;
  }
}
