import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';

/** Protocol of a front door or an upstream. */
export enum WebProtocol {
  HTTPS = 'HTTPS',
  HTTP = 'HTTP',
}

/** A web application of a customer behind the WAF. */
export interface DebugWebApp {
  /** The hostnames the application is served under (through the WAF). */
  readonly hostnames: string[];
  /**
   * IP address or DNS name of the upstream the WAF forwards to.
   *
   * Loopback, link-local, unspecified, multicast and cloud metadata addresses (in any spelling) fail synth and are never
   * contacted; a private address is contacted only by the checker inside the VPC.
   */
  readonly upstreamAddress: string;
  /**
   * Port of the upstream.
   * @default 443
   */
  readonly upstreamPort?: number;
  /**
   * Protocol of the upstream.
   * @default WebProtocol.HTTPS
   */
  readonly upstreamProtocol?: WebProtocol;
}

/** A customer and its web applications. */
export interface DebugCustomer {
  /** Name shown on the dashboard (letters, digits, space, `.`, `_`, `-`; at most 100). */
  readonly name: string;
  readonly apps: DebugWebApp[];
}

/** Where clients enter the WAF, and where it leaves for the upstreams. */
export interface WafFrontDoor {
  /**
   * DNS names of the entry (load balancer, Global Accelerator); the WAF checks connect to the first.
   * @default - none; give at least one DNS name or IP address
   */
  readonly dnsNames?: string[];
  /**
   * Static entry addresses (e.g. Global Accelerator's); DNS answers may be these.
   * @default - none
   */
  readonly ipAddresses?: string[];
  /**
   * The WAF's outbound (NAT) addresses: the only ones an upstream should accept. Shown in bypass findings.
   * @default - none
   */
  readonly egressIpAddresses?: string[];
  /**
   * Port of the entry.
   * @default 443
   */
  readonly port?: number;
  /**
   * Protocol of the entry.
   * @default WebProtocol.HTTPS
   */
  readonly protocol?: WebProtocol;
}

/** The one-click debugging checks of {@link ElasticWafMonitor}. */
export interface DebugChecksOptions {
  /**
   * Customers to check, fixed at deploy time.
   * @default - none; only those of `customersTable`
   */
  readonly customers?: DebugCustomer[];
  /**
   * A table of more customers, read at every use so new ones appear without a deploy. Items: `customer` (string, the
   * name) and `apps` (a list of maps with `hostnames`, `upstreamAddress`, `upstreamPort`, `upstreamProtocol` "http" or
   * "https"). Invalid items are skipped, never contacted; refused addresses are shown as not contacted.
   *
   * Write access to this table lets the writer choose where the checkers send requests, from inside the VPC too:
   * grant it like network-probe rights.
   * @default - customers from props only
   */
  readonly customersTable?: dynamodb.ITable;
  /** The WAF's entry and exit addresses. */
  readonly frontDoor: WafFrontDoor;
  /** The WAF's VPC: one checker runs inside it, one outside. */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets of the inside checker.
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Security groups of the inside checker.
   * @default - a new group allowing all outbound traffic
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * Time limit of each HEAD request and DNS lookup (1..10 s).
   * @default Duration.seconds(5)
   */
  readonly requestTimeout?: Duration;
  /**
   * Requests a checker makes at once (1..32).
   * @default 8
   */
  readonly concurrency?: number;
}
