// Scenario 1 with bigger numbers: npx tsx test/soak/crash.ts [messages-per-producer] [kills]
import { crashScenario } from '../reliability/scenarios/crash.js';
import { printSoak, soakDatabase } from './soak-database.js';

const t = await soakDatabase();
try {
  const r = await crashScenario(t, {
    relays: 4,
    producers: 10,
    messagesPerProducer: Number(process.argv[2] ?? 2000),
    kills: Number(process.argv[3] ?? 20),
  });
  printSoak(r.figures, r.problems, `kills ${r.kills} (${r.killedHolding} while holding leases)`);
} finally {
  await t.close();
}
