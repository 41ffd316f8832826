// Scenario 7 at full size: npx tsx test/soak/growth.ts [retained-rows, default 5000000]
import { growthLine, growthScenario } from '../reliability/scenarios/growth.js';
import { soakDatabase } from './soak-database.js';

const retained = Number(process.argv[2] ?? 5_000_000);
const t = await soakDatabase();
try {
  const g = await growthScenario(t, { retained });
  console.log(`scenario 7 growth: ${growthLine(g)}`);
  console.log(
    JSON.stringify({
      ...g,
      claimRatio: g.claimRetainedMs / g.claimEmptyMs,
      statsRatio: g.statsRetainedMs / g.statsEmptyMs,
    }),
  );
} finally {
  await t.close();
}
