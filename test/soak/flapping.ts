// Scenario 4 with bigger numbers: npx tsx test/soak/flapping.ts [messages-per-producer]
import { flappingScenario } from '../reliability/scenarios/flapping.js';
import { printSoak, soakDatabase } from './soak-database.js';

const t = await soakDatabase();
try {
  const r = await flappingScenario(t, {
    producers: 8,
    messagesPerProducer: Number(process.argv[2] ?? 1500),
    failureRatio: 0.35,
  });
  printSoak(
    r.figures,
    r.problems,
    `failures ${JSON.stringify(r.failures)}; heap growth ${r.heapGrowthMb.toFixed(1)} MB`,
  );
} finally {
  await t.close();
}
