// Scenario 3 with bigger numbers: npx tsx test/soak/races.ts [messages-per-producer]
import { racesScenario } from '../reliability/scenarios/races.js';
import { printSoak, soakDatabase } from './soak-database.js';

const t = await soakDatabase(40);
try {
  const r = await racesScenario(t, {
    relays: 4,
    producers: 20,
    messagesPerProducer: Number(process.argv[2] ?? 2500),
    longTxRatio: 0.05,
  });
  printSoak(r.figures, r.problems, `${r.heldTransactions} transactions held open`);
} finally {
  await t.close();
}
