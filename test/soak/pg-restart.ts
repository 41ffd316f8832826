// Scenario 2 with bigger numbers (its own embedded PostgreSQL): npx tsx test/soak/pg-restart.ts [restarts]
import { pgRestartScenario } from '../reliability/scenarios/pg-restart.js';
import { printSoak } from './soak-database.js';

const r = await pgRestartScenario({
  producers: 10,
  messagesPerProducer: 2000,
  restarts: Number(process.argv[2] ?? 6),
});
printSoak(
  r.figures,
  r.problems,
  `restarts ${r.restarts.join(', ')}; ${r.producerErrors} producer transactions failed; binary exit ${r.binaryExit}`,
);
