// Scenario 5 with bigger numbers: npx tsx test/soak/poison.ts [healthy] [poisoned-per-kind]
import { poisonScenario } from '../reliability/scenarios/poison.js';
import { printSoak, soakDatabase } from './soak-database.js';

const t = await soakDatabase();
try {
  const r = await poisonScenario(t, {
    healthy: Number(process.argv[2] ?? 10_000),
    poisonedPerKind: Number(process.argv[3] ?? 100),
  });
  const problems = [...r.problems, ...r.roundTripMismatches.map((m) => `payload changed: ${m}`)];
  if (r.relayErrors > 0) problems.push(`${r.relayErrors} relay errors`);
  printSoak(
    r.figures,
    problems,
    `rejected at add ${r.rejected.length}; dead ${Object.entries(r.deadReasons)
      .map(([k, v]) => `${k} ${v.length}`)
      .join(', ')}`,
  );
} finally {
  await t.close();
}
