import { readFileSync } from 'fs';
import { demoClient } from '../../examples/local-demo/outcome';
import { MANUAL_UNBLOCK_IP, runDemo } from '../../examples/local-demo/run-demo';
import { DEMO_ATTACKERS, NEAR_MISS } from '../../examples/local-demo/traffic';

// The whole local pipeline (kinesalite, dynalite, the real LogProcessor and IpSetSync, FakeWaf) on a short run.
// Timing goals are printed by `npm run bench`, never asserted here: CI machines vary.
describe('local demo', () => {
  test('blocks every attacker (IPv4 and IPv6) once it crosses its threshold, releases it when its block ends, and blocks nobody else', async () => {
    const emails: string[] = [];
    const outcome = await runDemo({ durationSeconds: 10, rate: 300, seed: 7, onEmail: (t) => emails.push(t) });

    expect(outcome.problems).toEqual([]);
    expect(outcome.ok).toBe(true);
    expect(outcome.attackers.map((a) => a.ip).sort()).toEqual(DEMO_ATTACKERS.map((a) => a.ip).sort());
    for (const a of outcome.attackers) {
      // Decided after the crossing request was logged; the block lasts the rule's minute from the offence's log time
      // (the batch's latest request of the client, at or after the crossing), never from when the batch was processed.
      expect(a.crossedAtMs).toBeDefined();
      expect(a.blockedAtMs!).toBeGreaterThanOrEqual(a.crossedAtMs!);
      expect(a.blockedUntilMs!).toBeGreaterThanOrEqual(a.crossedAtMs! + 60_000);
      expect(a.blockedUntilMs!).toBeLessThanOrEqual(a.blockedAtMs! + 60_000);
      expect(a.decisionLatencyMs!).toBeGreaterThan(0);
      expect(a.ipSetLatencyMs!).toBeGreaterThanOrEqual(a.decisionLatencyMs!);
      // Released after the block ended, by the first sync run after it (checked in the verdict); sweeps run every 10 s
      // of clock time, so that is soon after, even on a loaded machine where a sweep runs late.
      if (a.ip === MANUAL_UNBLOCK_IP) {
        // Unblocked by hand while the block still ran: released by the next sync run, before the block's end.
        expect(a.releasedAtMs!).toBeLessThan(a.blockedUntilMs!);
        expect(a.releasedAtMs!).toBeGreaterThanOrEqual(outcome.manualUnblock!.atClockMs);
        continue;
      }
      expect(a.releasedAtMs!).toBeGreaterThanOrEqual(a.blockedUntilMs!);
      expect(a.releasedAtMs! - a.blockedUntilMs!).toBeLessThanOrEqual(30_000);
    }
    // The demo ends its run with an operator's unblock through the widget's code path: applied and recorded.
    expect(outcome.manualUnblock).toMatchObject({ client: MANUAL_UNBLOCK_IP, leftIpSet: true, recorded: true });
    expect(outcome.falseBlocks).toEqual([]);
    expect(outcome.missed).toEqual([]);
    expect(outcome.nearMiss).toMatchObject({ ip: NEAR_MISS.ip, blocked: false });
    expect(outcome.nearMiss!.maxInWindow).toBeLessThan(outcome.nearMiss!.threshold);
    expect(outcome.nearMiss!.maxInWindow).toBeGreaterThan(outcome.nearMiss!.threshold * 0.8);

    // Malformed lines were on the stream and were counted, not fatal; every record was processed.
    expect(outcome.malformed).toBeGreaterThan(0);
    expect(outcome.linesProcessed).toBe(outcome.recordsPut);
    expect(outcome.distinctClients).toBeGreaterThan(1000);

    // The last step rendered the day's guard report from the demo's history table: every attacker is in its blocks CSV
    // and its email.
    const reportFiles = outcome.report.files;
    expect(outcome.report.problems).toEqual([]);
    const blocksCsv = readFileSync(reportFiles.find((f) => f.endsWith('blocks.csv'))!, 'utf8');
    const emailText = readFileSync(reportFiles.find((f) => f.endsWith('email.txt'))!, 'utf8');
    for (const a of DEMO_ATTACKERS) {
      expect(blocksCsv).toContain(`,"BLOCKED","${demoClient(a.ip)}","${a.ruleId}",`);
      expect(emailText).toContain(demoClient(a.ip));
    }

    // The alerts read like the email: every attacker appears once as blocked and once as released.
    const text = emails.join('\n');
    for (const a of DEMO_ATTACKERS) {
      // IPv6 attackers are named by their /64, as the guard blocks them.
      const name = demoClient(a.ip).replace(/[./]/g, '\\$&');
      expect(text.match(new RegExp(`^  ${name}  rule ${a.ruleId} .*threshold`, 'gm'))).toHaveLength(1);
      // The attacker unblocked by hand is announced in the digest's "by hand" section, naming the operator.
      const released = a.ip === MANUAL_UNBLOCK_IP ? `^  ${name} +rule ${a.ruleId} .*by demo-operator` : `^  ${name}  rule ${a.ruleId} .*block ended`;
      expect(text.match(new RegExp(released, 'gm'))).toHaveLength(1);
    }
    expect(text).toMatch(/Unblocked by hand \(released now\):/);
    expect(emails[0]).toMatch(/^From: AWS Notifications .*\nSubject: \[local-demo\] \d+ blocked\n\nBlocked in WAF:\n/);
  });
});
