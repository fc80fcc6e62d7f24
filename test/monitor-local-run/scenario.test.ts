import { PHASES, runMonitorScenario } from '../../examples/monitor-local-run/scenario';

describe('the monitor replayed over three and a half hours of trouble (npx projen demo:monitor)', () => {
  test('each trouble pages with the alarm meant for it and clears when it ends; a hung request and everything else page nobody', async () => {
    const { transitions, runs } = await runMonitorScenario();
    expect(runs).toBe(49);
    const changes = transitions.map((t) => `${t.alarm} ${t.to}`);
    expect(changes).toEqual([
      'ServerErrorPercentAlarm ALARM', 'ServerErrorPercentAlarm OK',
      'FreshnessAlarm ALARM', 'TrafficFloorAlarm ALARM', 'FreshnessAlarm OK', 'TrafficFloorAlarm OK',
      'ClusterRedAlarm ALARM', 'ClusterRedAlarm OK',
      'CollectorErrorsAlarm ALARM', 'CollectorErrorsAlarm OK',
    ]);
    const when = (alarm: string, to: string) => transitions.find((t) => t.alarm === alarm && t.to === to)!.at.getTime();
    const minutes = (ms: number) => ms / 60_000;
    // Paged while the trouble lasts (plus CloudWatch's evaluation periods), cleared within 15 minutes of its end.
    for (const [alarm, [from, to]] of [
      ['ServerErrorPercentAlarm', PHASES.serverErrors], ['FreshnessAlarm', PHASES.deadPipeline], ['TrafficFloorAlarm', PHASES.deadPipeline],
      ['ClusterRedAlarm', PHASES.clusterRed], ['CollectorErrorsAlarm', PHASES.unreachable],
    ] as const) {
      expect(minutes(when(alarm, 'ALARM') - from)).toBeGreaterThan(0);
      expect(when(alarm, 'ALARM')).toBeLessThan(to + 5 * 60_000);
      expect(minutes(when(alarm, 'OK') - to)).toBeGreaterThanOrEqual(0);
      expect(minutes(when(alarm, 'OK') - to)).toBeLessThanOrEqual(15);
    }
    // The dead pipeline is caught within 20 minutes.
    expect(minutes(when('FreshnessAlarm', 'ALARM') - PHASES.deadPipeline[0])).toBeLessThanOrEqual(20);
  });
});
