import { mkdir, writeFile } from 'fs/promises';
import { join, resolve } from 'path';
import { searchDocuments } from './memory-index';
import { SAMPLE_ALARMS, SAMPLE_TIME_ZONE, sampleAlarmChanges, sampleCosts, sampleDocuments, sampleHistory } from './sample-data';
import { DEFAULT_FIELDS } from '../../shared/runtime/elastic/connection';
import { summarizeAlarms } from '../runtime/alarm-summary';
import { ReportConfig } from '../runtime/config';
import { directoryOutputs } from '../runtime/local-outputs';
import { previousDay, previousMonth, ReportPeriod } from '../runtime/period';
import { ReportResult, ReportSources, runReport } from '../runtime/report-run';

/**
 * `cdk-waf-guard report --sample`: the report function's own code over generated data, so a team sees the daily and
 * monthly emails, the CSVs and the cost workbooks before deploying anything. The earlier day and month run first,
 * into the same directory, so the emails compare with a previous period as they do from the second run on.
 */

/** The configuration a deployed WafReporting with a guard, an Elasticsearch source and both cost sources would have. */
export const SAMPLE_CONFIG: ReportConfig = {
  reportName: 'Sample shop (generated data)',
  timeZone: SAMPLE_TIME_ZONE,
  sender: 'waf-reports@example.com',
  recipients: ['ops@example.com'],
  prefix: '',
  guard: { historyTable: 'sample-history', historyIndex: 'byDay', guardName: 'sample' },
  elastic: {
    endpoint: 'https://elastic.example.com:9243',
    indexPattern: 'waf-*',
    fields: DEFAULT_FIELDS,
    credentials: { kind: 'apiKey', secretArn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:sample-AbCdEf' },
    apdexTMs: 30,
    requestTimeoutMs: 5_000,
    topClientIps: 25,
  },
  costs: { groupByDimension: 'SERVICE' },
  alarmNames: SAMPLE_ALARMS,
  elasticBilling: { secretArn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:billing-AbCdEf', apiKeyKey: 'apiKey', organizationId: 'sample', endpoint: 'https://billing.elastic-cloud.com' },
};

/** Where the generated figures come from: the same parts a deployed report reads, answered from generated data. */
export function sampleSources(): ReportSources {
  return {
    readHistory: async (period) => sampleHistory(period.start, period.end),
    readBudgetExceeded: async () => 0,
    // The search's own range decides which documents it sees; 31 days before the earliest period covers the traffic CSVs.
    elasticSearch: async (_name, body) => searchDocuments(documentsFor(body), body),
    readAwsCosts: async (period) => ({ lines: sampleCosts(period.label).aws, estimated: false }),
    readElasticCosts: async (period) => sampleCosts(period.label).elastic,
    // Every alarm is OK by the time the report runs; the period's changes are the generated ones.
    readAlarms: async (period) => summarizeAlarms(
      SAMPLE_ALARMS,
      SAMPLE_ALARMS.map((name) => ({ name, state: 'OK' })),
      sampleAlarmChanges(period.start, period.end),
      period,
    ),
  };
}

/** The documents in the time range a search asks for (its first range filter on the timestamp). */
function documentsFor(body: Record<string, any>): ReturnType<typeof sampleDocuments> {
  const range = body?.query?.bool?.filter?.find((f: any) => f.range?.[DEFAULT_FIELDS.timestamp])?.range[DEFAULT_FIELDS.timestamp];
  if (!range) throw new Error('sample: a search without a time range would read every generated day');
  return sampleDocuments(new Date(range.gte), new Date(range.lt));
}

export interface SampleOptions {
  readonly outDir: string;
  /** The day after the sample's daily report (the sample reports the last complete day and month before it). */
  readonly now?: Date;
}

export interface SampleResult {
  readonly day: string;
  readonly month: string;
  /** The two emails as sent (HTML and text with headers). */
  readonly emailFiles: string[];
  /** Every object the runs wrote, under the same keys as in the bucket. */
  readonly files: string[];
  readonly problems: ReportResult['problems'];
}

export async function sampleReports(options: SampleOptions): Promise<SampleResult> {
  const root = resolve(options.outDir);
  const now = options.now ?? new Date();
  const day = previousDay(now, SAMPLE_TIME_ZONE);
  const month = previousMonth(now, SAMPLE_TIME_ZONE);
  const dayBefore = previousDay(day.start, SAMPLE_TIME_ZONE);
  const monthBefore = previousMonth(month.start, SAMPLE_TIME_ZONE);
  const files = new Set<string>();
  const emailFiles: string[] = [];
  const problems: ReportResult['problems'][number][] = [];
  const run = async (period: ReportPeriod, email?: string) => {
    const outputs = directoryOutputs(root);
    const result = await runReport({
      config: SAMPLE_CONFIG,
      period,
      now,
      sources: sampleSources(),
      outputs: {
        ...outputs,
        // The earlier periods' emails are not kept: they exist only so the shown ones have a previous period.
        sendEmail: async (rendered, from, to) => {
          if (!email) return undefined;
          const html = join(root, `${email}.html`);
          const text = join(root, `${email}.txt`);
          await mkdir(root, { recursive: true });
          await writeFile(html, rendered.html);
          await writeFile(text, `From: ${from}\nTo: ${to.join(', ')}\nSubject: ${rendered.subject}\n\n${rendered.text}\n`);
          emailFiles.push(html, text);
          return undefined;
        },
      },
      log: { info: quiet, warn: quiet, error: quiet },
      metrics: { add: quiet },
    });
    result.files.forEach((f) => files.add(f));
    problems.push(...result.problems);
  };
  await run(monthBefore);
  await run(month, 'email-monthly');
  await run(dayBefore);
  await run(day, 'email-daily');
  return { day: day.label, month: month.label, emailFiles, files: [...files].sort(), problems };
}

const quiet = () => undefined;
