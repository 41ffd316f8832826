/**
 * The benchmark scenarios `bench/run.ts` knows, in the order it runs them.
 *
 * Adding a scenario (e.g. a new publisher's throughput) is one file and one line here:
 * 1. Write `bench/scenarios/<name>.ts` exporting `defineScenario({ name, summary, sizes, run })`
 *    (see bench/scenario.ts): `sizes.small` keeps `npm run bench` to a few minutes on 2 cores,
 *    `sizes.full` is what the README's table reports. `run(ctx, size)` measures and calls
 *    `ctx.add(row)` once per table row; `ctx.graphileSchema()` / `ctx.pgBoss()` start the
 *    competitors only when asked.
 * 2. Put the measuring code that is worth running alone in `bench/<name>.ts` with an
 *    `isMain(import.meta.url)` block (see bench/drain.ts); a scenario that needs a server or a
 *    receiver in its own process runs it with `runBenchScript` (see scenarios/webhook.ts).
 * 3. Append the entry below. `--only <name>` then selects it, `--help` lists it, and its rows
 *    land in the table, bench/results/latest.json and the chart.
 * Rows get "vs graphile-worker" ratios when the scenario has a graphile-worker row of the same
 * label; set `ratio: 'none'`, or give a row its own `ratio` and `ratioOf`, for anything else.
 * Bench code imports from src/ and bench/support/, never from test/.
 */
import type { BenchScenario } from '../scenario.js';
import { attemptLogScenario } from './attempt-log.js';
import { blockedKeyBenchScenario } from './blocked-key.js';
import { drainScenario } from './drain.js';
import { latencyScenario } from './latency.js';
import { limitsScenario } from './limits.js';
import { natsScenario } from './nats.js';
import { outageScenario } from './outage.js';
import { producerScenario } from './producer.js';
import { routerosScenario } from './routeros.js';
import { scaleScenario } from './scale.js';
import { tracingScenario } from './tracing.js';
import { webhookScenario } from './webhook.js';

export const SCENARIOS: readonly BenchScenario[] = [
  drainScenario,
  attemptLogScenario,
  tracingScenario,
  producerScenario,
  latencyScenario,
  scaleScenario,
  blockedKeyBenchScenario,
  limitsScenario,
  webhookScenario,
  routerosScenario,
  natsScenario,
  outageScenario,
];
