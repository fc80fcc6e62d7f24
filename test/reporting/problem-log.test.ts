import { Logger } from '@aws-lambda-powertools/logger';
import { elasticSourceConfig } from './fake-elastic';
import { REPORT_CONFIG_ENV, ReportConfig } from '../../src/reporting/runtime/config';
import { dayPeriod } from '../../src/reporting/runtime/period';
import { createReportHandler } from '../../src/reporting/runtime/report-handler';
import { ReportOutputs, runReport } from '../../src/reporting/runtime/report-run';
import { powertoolsLog } from '../../src/shared/runtime/telemetry';

/**
 * The report's problem lines through the real Powertools Logger, as the function writes them: the Logger drops
 * attributes it reserves for itself (`message`, `level`, `timestamp`, `service`, `sampling_rate`), so the reason of a
 * failure must travel under a key of its own to reach the log.
 */

const config: ReportConfig = {
  reportName: 'prod',
  timeZone: 'Europe/Berlin',
  sender: 'reports@example.com',
  recipients: ['ops@example.com'],
  prefix: '',
  guard: { historyTable: 'history', historyIndex: 'byDay', guardName: 'edge' },
};

/** A bucket in memory; the email is refused as SES refuses an unverified sender. */
function outputs(): ReportOutputs {
  const objects = new Map<string, Buffer>();
  return {
    putObject: async (key, body) => {
      objects.set(key, Buffer.from(body));
      return `mem://${key}`;
    },
    getObject: async (key) => objects.get(key),
    sendEmail: async (_email, from) => {
      throw Object.assign(new Error(`Email address is not verified: ${from}`), { name: 'MessageRejected' });
    },
  };
}

/** Every JSON line Powertools writes to stdout and stderr while `fn` runs. */
async function loggedLines(fn: () => Promise<unknown>): Promise<Array<Record<string, unknown>>> {
  const chunks: string[] = [];
  const capture = (chunk: unknown) => {
    chunks.push(String(chunk));
    return true;
  };
  const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  try {
    await fn();
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
  return chunks.join('').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
}

describe('report problems in the function log (Powertools Logger, JSON on stdout)', () => {
  test('each problem of a run is one report-problem line carrying its source and its text; no key is dropped', async () => {
    let result: Awaited<ReturnType<typeof runReport>> | undefined;
    const lines = await loggedLines(async () => {
      result = await runReport({
        config,
        period: dayPeriod('2026-11-30', 'Europe/Berlin'),
        now: new Date('2026-12-01T04:00:00Z'),
        sources: {
          readHistory: async () => {
            throw Object.assign(new Error('Requested resource not found: Table: history not found'), { name: 'ResourceNotFoundException' });
          },
        },
        outputs: outputs(),
        log: powertoolsLog(new Logger({ serviceName: 'waf-report' })),
        metrics: { add: () => undefined },
      });
    });
    expect(result!.problems.map((p) => p.source)).toEqual(['guard-history', 'email']);
    const problems = lines.filter((l) => l.event === 'report-problem');
    expect(problems.map((l) => [l.source, l.problem])).toEqual(result!.problems.map((p) => [p.source, p.message]));
    expect(problems[0].problem).toBe('ResourceNotFoundException: Requested resource not found: Table: history not found');
    expect(problems[1].problem).toBe('MessageRejected: Email address is not verified: reports@example.com');
    expect(problems.every((l) => l.level === 'ERROR' && l.service === 'waf-report' && l.period === '2026-11-30')).toBe(true);
    // Powertools warns about each attribute it drops.
    expect(lines.filter((l) => String(l.message).includes('reserved key'))).toEqual([]);
  });

  test('a run that cannot start (invalid configuration) logs its reason on the report-problem line', async () => {
    const handler = createReportHandler({
      env: { [REPORT_CONFIG_ENV]: JSON.stringify({ ...config, elastic: elasticSourceConfig({ apdexTMs: 0 }) }) },
      clients: {},
      outputs: () => outputs(),
      log: powertoolsLog(new Logger({ serviceName: 'waf-report' })),
      metrics: { add: () => undefined },
    });
    let summary: Awaited<ReturnType<typeof handler>> | undefined;
    const lines = await loggedLines(async () => {
      summary = await handler({ kind: 'daily', scheduledTime: '2026-12-01T03:00:00Z' });
    });
    expect(summary!.problems).toEqual([{ source: 'request', message: expect.stringContaining('elastic.apdexTMs must be a positive number') }]);
    expect(lines).toEqual([expect.objectContaining({
      level: 'ERROR', message: 'report failed', event: 'report-problem', source: 'request', problem: summary!.problems[0].message,
    })]);
  });
});
