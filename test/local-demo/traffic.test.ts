import { DEMO_ATTACKERS, DEMO_RULES_JSON, LightClientsGenerator, NEAR_MISS } from '../../examples/local-demo/traffic';
import { parseRulesJson } from '../../src/cli/rules-file';

const rules = parseRulesJson(JSON.stringify(DEMO_RULES_JSON), 'the demo rules');
const T0 = 1_800_000_000_000;
const attackers = DEMO_ATTACKERS.map((a) => ({ ...a, endFraction: a.startFraction + 0.1 }));

function run(seed: number) {
  const generator = new LightClientsGenerator({
    seed, samplingRate: 100, startMs: T0, durationMs: 600_000, rules, attackers, groundTruth: true, clients: 2000, malformedRate: 0,
  });
  const records = [];
  for (let t = T0; !generator.done; t += 1000) records.push(...generator.until(t + 1000));
  return { generator, records };
}

test('light clients: each sends 1 to 10 requests within the run; attackers only between their start and end', () => {
  const { generator, records } = run(3);
  const perClient = new Map<string, number>();
  for (const r of records) perClient.set(r.ip!, (perClient.get(r.ip!) ?? 0) + 1);
  const attackerIps = new Set(attackers.map((a) => a.ip));
  const light = [...perClient].filter(([ip]) => !attackerIps.has(ip) && ip !== NEAR_MISS.ip);
  expect(light).toHaveLength(2000);
  expect(Math.min(...light.map(([, n]) => n))).toBe(1);
  expect(Math.max(...light.map(([, n]) => n))).toBe(10);
  expect(records.every((r) => r.timestampMs >= T0 && r.timestampMs < T0 + 600_000)).toBe(true);
  // In time order, as the stream receives them.
  expect(records.every((r, i) => i === 0 || records[i - 1].timestampMs <= r.timestampMs)).toBe(true);
  for (const a of attackers) {
    const times = records.filter((r) => r.ip === a.ip).map((r) => r.timestampMs);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(T0 + a.startFraction * 600_000);
    expect(Math.max(...times)).toBeLessThan(T0 + a.endFraction * 600_000);
  }
  expect(generator.requests).toBe(records.length);
});

test('light clients: the same seed gives the same traffic, another seed other traffic', () => {
  const lines = (seed: number) => run(seed).records.map((r) => r.line);
  expect(lines(3)).toEqual(lines(3));
  expect(lines(4)).not.toEqual(lines(3));
});
