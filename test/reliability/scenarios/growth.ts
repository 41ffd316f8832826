import { SYSTEM_CLOCK } from '../../../src/core/foundation/clock.js';
import { cleanupDelivered } from '../../../src/core/maintenance/cleanup-delivered.js';
import { createOutbox } from '../../../src/core/producer/outbox.js';
import { getStats } from '../../../src/core/maintenance/outbox-stats.js';
import { sqlRunner } from '../../../src/core/foundation/queryable.js';
import { OutboxStore } from '../../../src/core/store/index.js';
import type { ScenarioDatabase } from '../harness.js';

/** The growth scenario's measurements (milliseconds). */
export interface GrowthFigures {
  readonly retained: number;
  readonly insertMs: number;
  readonly claimEmptyMs: number;
  readonly claimRetainedMs: number;
  readonly statsEmptyMs: number;
  readonly statsRetainedMs: number;
  readonly cleanupDeleted: number;
  readonly cleanupBatches: number;
  readonly cleanupMs: number;
  readonly cleanupLongestStatementMs: number;
  /** Slowest claim issued while cleanup was deleting: what a long lock would show. */
  readonly claimDuringCleanupMaxMs: number;
  readonly pendingUntouched: boolean;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timed<T>(fn: () => Promise<T>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

/**
 * Claim and stats timings on an empty table, then with `retained` delivered rows made by one
 * INSERT ... SELECT, then a cleanup of those rows in batches while claims keep running.
 */
export async function growthScenario(
  t: ScenarioDatabase,
  options: { retained: number; claims?: number; cleanupBatchSize?: number },
): Promise<GrowthFigures> {
  const store = new OutboxStore(t.schema);
  const run = sqlRunner(t.db);
  const outbox = createOutbox({ schema: t.schema });
  const claims = options.claims ?? 30;
  const measureClaims = async () => {
    await outbox.addMany(
      t.db,
      Array.from({ length: claims * 10 }, (_, i) => ({
        type: 'growth',
        orderingKey: `k${i % 20}`,
        payload: { i },
      })),
    );
    const times: number[] = [];
    for (let i = 0; i < claims; i++) {
      times.push(
        await timed(() =>
          store.claim(run, { clock: SYSTEM_CLOCK, leaseMs: 60_000, limit: 10, workerId: 'growth' }),
        ),
      );
    }
    // Finish them so the next measurement starts from the same place.
    await t.pool.query(
      `update "${t.schema}".messages set status = 'delivered', delivered_at = now() where status <> 'delivered'`,
    );
    return median(times);
  };
  const measureStats = async () => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) times.push(await timed(() => getStats(t.db, { schema: t.schema })));
    return median(times);
  };
  // Warm-up: plans cached and the connection pool open before anything is measured.
  await measureClaims();
  await t.pool.query(`delete from "${t.schema}".messages`);
  await t.pool.query(`delete from "${t.schema}".messages_archive`);
  const claimEmptyMs = await measureClaims();
  const statsEmptyMs = await measureStats();
  await t.pool.query(`delete from "${t.schema}".messages`);

  const insertMs = await timed(() =>
    t.pool.query(
      // Retained delivered rows live in the archive (storage v2), ids from the hot table's identity.
      `insert into "${t.schema}".messages_archive
         (id, message_id, kind, type, destination, ordering_key, payload, headers, attempts, max_attempts,
          created_at, available_at, delivered_at)
       select nextval(pg_get_serial_sequence('"${t.schema}".messages', 'id')), gen_random_uuid(), 'event', 'retained',
              'default', 'k' || (g % 1000), jsonb_build_object('n', g), '{}', 1, 25,
              now() - interval '40 days', now() - interval '40 days',
              -- delivered over 9 days, in delivery order, as a relay leaves them: all past 30 days
              now() - interval '40 days' + make_interval(secs => g * 777600.0 / $1)
         from generate_series(1, $1) g`,
      [options.retained],
    ),
  );
  // What autovacuum (scale factor 0.02 on this table) does shortly after such a load.
  await t.pool.query(`analyze "${t.schema}".messages`);
  await t.pool.query(`analyze "${t.schema}".messages_archive`);
  const claimRetainedMs = await measureClaims();
  const statsRetainedMs = await measureStats();

  // Pending rows that cleanup must not touch, and a claimer running through the cleanup.
  await outbox.addMany(
    t.db,
    Array.from({ length: 2000 }, (_, i) => ({ type: 'keep', payload: { i } })),
  );
  let cleaning = true;
  let claimDuringCleanupMaxMs = 0;
  const claimer = (async () => {
    // Bounded: stops with the cleanup, or after 100k claims whatever happens.
    for (let i = 0; cleaning && i < 100_000; i++) {
      const ms = await timed(async () => {
        const rows = await store.claim(run, {
          clock: SYSTEM_CLOCK,
          leaseMs: 60_000,
          limit: 5,
          workerId: 'during',
        });
        if (rows.length > 0)
          await store.release(run, {
            ids: rows.map((r) => r.id),
            started: rows.map(() => false),
            workerId: 'during',
          });
      });
      claimDuringCleanupMaxMs = Math.max(claimDuringCleanupMaxMs, ms);
    }
  })();
  const cleanupStarted = performance.now();
  const cleanup = await cleanupDelivered(t.db, {
    schema: t.schema,
    olderThanDays: 30,
    batchSize: options.cleanupBatchSize ?? 5000,
  }).finally(() => {
    cleaning = false;
  });
  const cleanupMs = performance.now() - cleanupStarted;
  await claimer;
  const { rows } = await t.pool.query<{ n: number }>(
    `select count(*)::int as n from "${t.schema}".messages where type = 'keep' and status = 'pending'`,
  );
  return {
    retained: options.retained,
    insertMs,
    claimEmptyMs,
    claimRetainedMs,
    statsEmptyMs,
    statsRetainedMs,
    cleanupDeleted: cleanup.deleted,
    cleanupBatches: cleanup.batches,
    cleanupMs,
    cleanupLongestStatementMs: cleanup.longestBatchMs,
    claimDuringCleanupMaxMs,
    pendingUntouched: rows[0]!.n === 2000,
  };
}

/** The figures as one printable line. */
export function growthLine(g: GrowthFigures): string {
  const f = (ms: number) => `${ms.toFixed(1)} ms`;
  return [
    `retained ${g.retained} (insert ${(g.insertMs / 1000).toFixed(1)} s)`,
    `claim ${f(g.claimEmptyMs)} empty -> ${f(g.claimRetainedMs)} retained (x${(g.claimRetainedMs / g.claimEmptyMs).toFixed(2)})`,
    `stats ${f(g.statsEmptyMs)} -> ${f(g.statsRetainedMs)} (x${(g.statsRetainedMs / g.statsEmptyMs).toFixed(2)})`,
    `cleanup ${g.cleanupDeleted} rows in ${g.cleanupBatches} batches, ${(g.cleanupMs / 1000).toFixed(1)} s, longest statement ${f(g.cleanupLongestStatementMs)}`,
    `slowest claim during cleanup ${f(g.claimDuringCleanupMaxMs)}`,
  ].join('; ');
}
