/**
 * `npx projen demo:monitor`: the monitor's alarms over three and a half hours of replayed trouble, printed as the
 * on-call engineer's pager would see them (see scenario.ts for what happens when).
 */
import { Transition, runMonitorScenario } from './scenario';

function line(t: Transition): string {
  const time = t.at.toISOString().slice(11, 16);
  const value = t.value === undefined ? 'no data' : `newest value ${Number(t.value.toFixed(2))}`;
  return `${time}  ${t.alarm.padEnd(28)} ${t.from.padEnd(17)} -> ${t.to.padEnd(17)} (${value})`;
}

async function main(): Promise<void> {
  console.log('Replaying 10:00-13:35 UTC against the cluster fake; alarm changes as CloudWatch would evaluate them:\n');
  const result = await runMonitorScenario((t) => console.log(line(t)));
  console.log(`\n${result.runs} collector runs, ${result.alarms} alarms evaluated every minute, ${result.transitions.length} state changes.`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
