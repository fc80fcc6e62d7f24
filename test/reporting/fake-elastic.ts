import { BaseConnection, errors } from '@elastic/elasticsearch';
import Mock from '@elastic/elasticsearch-mock';
import { ElasticSourceConfig } from '../../src/reporting/runtime/config';
import { Doc, searchDocuments } from '../../src/reporting/sample/memory-index';
import { DEFAULT_FIELDS } from '../../src/shared/runtime/elastic/connection';

/**
 * A WAF index behind `@elastic/elasticsearch-mock` that answers `/:index/_search` from its documents and the request,
 * evaluated by the in-memory index `report --sample` also reads (see its header for the queries and aggregations),
 * shaped like Elasticsearch 8's responses; it can time out chosen searches or go down.
 */
export type { Doc };

type Json = Record<string, any>;

export class FakeElastic {
  public readonly searches: Array<{ index: string; body: Json }> = [];
  /** The timeout (ms) each request was sent with, in order. */
  public readonly timeouts: number[] = [];
  private readonly mock = new Mock();
  private slow?: { ms: number; which: (body: Json) => boolean };

  constructor(public docs: Doc[]) {
    this.mock.add({ method: 'POST', path: '/:index/_search' }, this.answer);
  }

  /** The answer to one search, from the documents and the request. */
  private readonly answer = (params: any): Json => {
    const body = params.body as Json;
    this.searches.push({ index: decodeURIComponent(params.path.split('/')[1]), body });
    return searchDocuments(this.docs, body);
  };

  /** Searches whose request matches `which` time out (the client's TimeoutError); the others are answered. */
  public timeOut(which: (body: Json) => boolean): void {
    const answer = this.answer;
    this.mock.clearAll();
    this.mock.add({ method: 'POST', path: '/:index/_search' }, (params: any) => {
      if (which(params.body as Json)) {
        this.searches.push({ index: decodeURIComponent(params.path.split('/')[1]), body: params.body });
        return new errors.TimeoutError('Request timed out');
      }
      return answer(params);
    });
  }

  /**
   * Searches whose request matches `which` take `ms` to answer, as a busy cluster does; a request sent with a shorter
   * timeout fails with the client's TimeoutError once its own timeout has passed.
   */
  public delay(ms: number, which: (body: Json) => boolean = () => true): void {
    this.slow = { ms, which };
  }

  /** Every search fails as when the cluster cannot be reached. */
  public goDown(): void {
    this.mock.clearAll();
    this.mock.add({ method: 'POST', path: '/:index/_search' }, () => new errors.ConnectionError('connect ECONNREFUSED 10.0.0.5:9243'));
  }

  public connection(): typeof BaseConnection {
    const Base = this.mock.getConnection();
    const fake = this;
    return class extends Base {
      async request(params: any, options: any): Promise<any> {
        const timeout = Number(options.timeout);
        fake.timeouts.push(timeout);
        const slow = fake.slow;
        if (slow && slow.which(JSON.parse(String(params.body ?? '{}')))) {
          await new Promise((r) => setTimeout(r, Math.min(slow.ms, timeout)));
          if (timeout < slow.ms) throw new errors.TimeoutError('Request timed out');
        }
        return super.request(params, options);
      }

      async close(): Promise<void> {}
    };
  }
}

/** The secret the report tests' Elasticsearch API key lives in. */
export const ES_SECRET = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:waf/es-AbCdEf';

/** The report's Elasticsearch settings the tests run with (API key from ES_SECRET, default fields). */
export function elasticSourceConfig(overrides: Partial<ElasticSourceConfig> = {}): ElasticSourceConfig {
  return {
    endpoint: 'https://es.example.com:9243',
    indexPattern: 'waf-*',
    fields: DEFAULT_FIELDS,
    credentials: { kind: 'apiKey', secretArn: ES_SECRET },
    apdexTMs: 30,
    requestTimeoutMs: 5000,
    topClientIps: 25,
    ...overrides,
  };
}
