/**
 * Why a paused destination's rows are held (moved beyond the due range) instead of only being
 * skipped by the claim's check of the paused list. One schema: `backlog` due rows of a paused
 * destination, added first (they sit at the head of messages_claim_idx), then 2,000 rows of
 * another destination. The same claim of 50 (released again at once), interleaved over
 * `rounds`: "check only" while the paused rows are still due, then "held" after
 * pauseDestination moved them; median per side.
 * Run: npx tsx bench/experiments/paused-claim.ts [backlog=50000] [rounds=40]
 */
import { sqlRunner } from '../../src/core/foundation/queryable.js';
import { pauseDestination } from '../../src/core/maintenance/destinations.js';
import { migrate } from '../../src/core/migrations/migrate.js';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { OutboxStore } from '../../src/core/store/index.js';
import { benchPool, uniqueName } from '../support/bench-pool.js';
import { startBenchPostgres } from '../support/bench-postgres.js';
import { median } from '../support/stats.js';

const backlog = Number(process.argv[2] ?? 50_000);
const rounds = Number(process.argv[3] ?? 40);
const pg = await startBenchPostgres();
const pool = benchPool(pg.url, 2);
const schema = uniqueName('paused_claim');
try {
  await migrate(pool, { schema });
  const outbox = createOutbox({ schema });
  const add = async (destination: string, n: number) => {
    for (let i = 0; i < n; i += 5_000)
      await outbox.addMany(
        pool,
        Array.from({ length: Math.min(5_000, n - i) }, (_, j) => ({
          type: 'b',
          destination,
          payload: i + j,
        })),
      );
  };
  await add('noop:paused', backlog);
  await add('noop:other', 2_000);
  const run = sqlRunner(pool);
  const store = new OutboxStore(schema);
  // The pause row only: its rows stay due, as rows added after a pause are until the hold pass.
  await pool.query(
    `insert into "${schema}".destinations (name, paused_until, paused_reason) values ('noop:paused', 'infinity', 'bench')`,
  );
  await pool.query(`vacuum analyze "${schema}".messages`);
  const claimMs = async () => {
    const times: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const started = performance.now();
      const rows = await store.claim(run, { leaseMs: 60_000, limit: 50, workerId: 'bench' });
      times.push(performance.now() - started);
      if (rows.some((r) => r.destination === 'noop:paused')) throw new Error('claimed a paused row');
      await store.release(run, {
        ids: rows.map((r) => r.id),
        started: rows.map(() => false),
        workerId: 'bench',
      });
    }
    return median(times);
  };
  const checkOnly = await claimMs();
  const { held } = await pauseDestination(pool, 'noop:paused', { schema, reason: 'bench' });
  await pool.query(`vacuum analyze "${schema}".messages`);
  const heldMs = await claimMs();
  console.log(
    `claim of 50 next to ${backlog} rows of a paused destination: check only ${checkOnly.toFixed(1)} ms, ` +
      `held (${held} rows) ${heldMs.toFixed(1)} ms (median of ${rounds})`,
  );
} finally {
  await pool.query(`drop schema if exists "${schema}" cascade`).catch(() => undefined);
  await pool.end();
  await pg.stop();
}
