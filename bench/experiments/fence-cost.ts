/**
 * What the schema fence costs the claim: the same claim statement with and without its
 * `(select max(version) from <schema>.migrations) <= n` condition, interleaved on one
 * connection over a backlog (each claim of 50 released again at once), median and p90 per side.
 * Interleaving cancels the noise of a shared machine that separate drain runs do not.
 * Run: npx tsx bench/experiments/fence-cost.ts [rounds=400]
 */
import { sqlRunner } from '../../src/core/foundation/queryable.js';
import { LATEST_MIGRATION_VERSION } from '../../src/core/migrations/index.js';
import { OutboxStore } from '../../src/core/store/index.js';
import { fillOutbox } from '../drain.js';
import { benchPool, uniqueName } from '../support/bench-pool.js';
import { startBenchPostgres } from '../support/bench-postgres.js';

const rounds = Number(process.argv[2] ?? 400);
const pg = await startBenchPostgres();
const pool = benchPool(pg.url, 2);
const schema = uniqueName('fence');
try {
  await fillOutbox(pool, schema, 20_000);
  const run = sqlRunner(pool);
  const sides = {
    fenced: new OutboxStore(schema, { fenceVersion: LATEST_MIGRATION_VERSION }),
    unfenced: new OutboxStore(schema),
  };
  const times: Record<keyof typeof sides, number[]> = { fenced: [], unfenced: [] };
  for (let i = 0; i < rounds; i++) {
    for (const name of (i % 2 ? ['fenced', 'unfenced'] : ['unfenced', 'fenced']) as (keyof typeof sides)[]) {
      const started = performance.now();
      const rows = await sides[name].claim(run, { leaseMs: 60_000, limit: 50, workerId: 'bench' });
      if (i >= 20) times[name].push(performance.now() - started);
      await sides[name].release(run, {
        ids: rows.map((r) => r.id),
        started: rows.map(() => false),
        workerId: 'bench',
      });
    }
  }
  for (const [name, t] of Object.entries(times)) {
    t.sort((a, b) => a - b);
    const q = (p: number) => t[Math.floor(t.length * p)]!.toFixed(3);
    console.log(
      `${name}: claim of 50 from 20,000 due, median ${q(0.5)} ms, p90 ${q(0.9)} ms (${t.length} claims)`,
    );
  }
} finally {
  await pool.end();
  await pg.stop();
}
