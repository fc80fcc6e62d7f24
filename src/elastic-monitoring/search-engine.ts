import * as opensearch from 'aws-cdk-lib/aws-opensearchservice';

/** The product behind the monitor's endpoint. */
export enum SearchEngineKind {
  /** Elasticsearch 7.17 or 8.x, self-managed or Elastic Cloud. */
  ELASTICSEARCH = 'elasticsearch',
  /** Self-managed OpenSearch 2.x. */
  OPENSEARCH = 'opensearch',
  /** A domain of Amazon OpenSearch Service. */
  AMAZON_OPENSEARCH_SERVICE = 'amazon-opensearch-service',
  /** A collection of Amazon OpenSearch Serverless. */
  AMAZON_OPENSEARCH_SERVERLESS = 'amazon-opensearch-serverless',
}

/** Which Amazon OpenSearch Service domain the endpoint belongs to. */
export interface AmazonOpenSearchServiceOptions {
  /**
   * The domain, when it is defined in CDK (or imported with `Domain.fromDomainAttributes`). Give this or `domainArn`.
   * @default - `domainArn`
   */
  readonly domain?: opensearch.IDomain;
  /**
   * ARN of the domain, `arn:aws:es:<region>:<account>:domain/<name>`. Give this or `domain`.
   * @default - the ARN of `domain`
   */
  readonly domainArn?: string;
  /**
   * Region requests are signed for.
   * @default - the region of the domain's ARN, else of the endpoint (`*.<region>.es.amazonaws.com`), else the stack's
   */
  readonly region?: string;
}

/** Which Amazon OpenSearch Serverless collection the endpoint belongs to. */
export interface AmazonOpenSearchServerlessOptions {
  /** ARN of the collection, `arn:aws:aoss:<region>:<account>:collection/<id>` (e.g. `CfnCollection.attrArn`). */
  readonly collectionArn: string;
  /**
   * Region requests are signed for.
   * @default - the region of the collection's ARN, else of the endpoint, else the stack's
   */
  readonly region?: string;
}

/**
 * The search engine the collector talks to, and so how it authenticates and which requests it makes.
 *
 * - `elasticsearch()` (the default) and `openSearch()` authenticate with `credentials` from Secrets Manager.
 * - `amazonOpenSearchService()` signs requests (SigV4) with the collector's role, which is granted `es:ESHttpGet` and
 *   `es:ESHttpPost` on the domain; with fine-grained access control and an internal user, give `credentials`
 *   (basic auth) instead.
 * - `amazonOpenSearchServerless()` signs requests with the collector's role, which is granted `aoss:APIAccessAll` on
 *   the collection. Serverless has no node statistics: the node figures and alarms stay empty.
 */
export class SearchEngine {
  /** Elasticsearch 7.17 or 8.x: basic auth or an API key in `credentials`. */
  public static elasticsearch(): SearchEngine {
    return new SearchEngine(SearchEngineKind.ELASTICSEARCH);
  }

  /** Self-managed OpenSearch 2.x with the security plugin: basic auth in `credentials`. */
  public static openSearch(): SearchEngine {
    return new SearchEngine(SearchEngineKind.OPENSEARCH);
  }

  /** A domain of Amazon OpenSearch Service (OpenSearch 2.x): requests signed with the collector's role. */
  public static amazonOpenSearchService(options: AmazonOpenSearchServiceOptions): SearchEngine {
    if (options.domain && options.domainArn !== undefined) {
      throw new Error('SearchEngine.amazonOpenSearchService: give either domain or domainArn, not both');
    }
    const arn = options.domain?.domainArn ?? options.domainArn;
    return new SearchEngine(SearchEngineKind.AMAZON_OPENSEARCH_SERVICE, arn, options.region, options.domain);
  }

  /** A collection of Amazon OpenSearch Serverless: requests signed with the collector's role, no node statistics. */
  public static amazonOpenSearchServerless(options: AmazonOpenSearchServerlessOptions): SearchEngine {
    return new SearchEngine(SearchEngineKind.AMAZON_OPENSEARCH_SERVERLESS, options.collectionArn, options.region);
  }

  /** Which product. */
  public readonly kind: SearchEngineKind;
  /** The domain's or collection's ARN, for the Amazon engines: what the collector's role is granted access to. */
  public readonly resourceArn?: string;
  /** The region requests are signed for, when given. */
  public readonly region?: string;
  /** The domain, when given as a construct. */
  public readonly domain?: opensearch.IDomain;

  private constructor(kind: SearchEngineKind, resourceArn?: string, region?: string, domain?: opensearch.IDomain) {
    this.kind = kind;
    this.resourceArn = resourceArn;
    this.region = region;
    this.domain = domain;
  }
}
