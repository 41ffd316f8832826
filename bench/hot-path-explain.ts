/**
 * The relay's claim and delivered write-back before and after storage v2, as EXPLAIN (ANALYZE,
 * BUFFERS, WAL) on one server in one run (README, Performance). Before: the layout of migration 6
 * (delivered rows kept in `messages`, indexes naming `status`) with the statements the store ran
 * then (bench/experiments/storage-v2-sql.ts, `todayStatements`). After: this build's migrations
 * and `OutboxStore`. Both tables hold `retained` delivered rows and `batch` pending unkeyed rows.
 * Run: npx tsx bench/hot-path-explain.ts [retained=1000000] [batch=500]
 */
import type pg from 'pg';
import { migrate } from '../src/core/migrations/migrate.js';
import { MIGRATIONS } from '../src/core/migrations/index.js';
import { OutboxStore } from '../src/core/store/index.js';
import { fillOutbox } from './drain.js';
import { todayStatements } from './experiments/storage-v2-sql.js';
import { benchPool, uniqueName } from './support/bench-pool.js';
import { startBenchPostgres } from './support/bench-postgres.js';
import { type Explained, explainMedian } from './support/explain.js';
import { isMain } from './support/is-main.js';

/** One measured statement. */
export interface HotPathRow {
  layout: 'before' | 'after';
  statement: 'claim' | 'delivered';
  explained: Explained;
}

/** Before: migration 6's layout, delivered rows kept in `messages`. After: what `bench/drain.ts` fills. */
async function fill(
  pool: pg.Pool,
  schema: string,
  layout: 'before' | 'after',
  retained: number,
  batch: number,
) {
  if (layout === 'after') return fillOutbox(pool, schema, batch, retained);
  const s = `"${schema}"`;
  await migrate(pool, { schema, migrations: MIGRATIONS.filter((m) => m.version <= 6) });
  await pool.query(
    `insert into ${s}.messages (message_id, type, destination, payload, status, attempts, delivered_at)
     select gen_random_uuid(), 'retained', 'noop', jsonb_build_object('seq', g), 'delivered', 1, now()
       from generate_series(1, $1::int) g`,
    [retained],
  );
  await pool.query(
    `insert into ${s}.messages (message_id, type, destination, payload)
     select gen_random_uuid(), 'order.created', 'noop', jsonb_build_object('orderId', g, 'amount', 4200, 'currency', 'EUR')
       from generate_series(1, $1::int) g`,
    [batch],
  );
  await pool.query(`vacuum analyze ${s}.messages`);
}

/**
 * Measures both layouts; each EXPLAIN is rolled back and preceded by a VACUUM, so a rolled-back
 * UPDATE's row versions do not take the room the next run's HOT updates need.
 *
 * @example
 * const rows = await hotPathExplain(url, 1_000_000, 500);
 */
export async function hotPathExplain(url: string, retained: number, batch: number): Promise<HotPathRow[]> {
  const pool = benchPool(url, 2);
  const out: HotPathRow[] = [];
  try {
    for (const layout of ['before', 'after'] as const) {
      const schema = uniqueName(`hot_${layout}`);
      await fill(pool, schema, layout, retained, batch);
      const today = todayStatements(`"${schema}"`);
      const store = new OutboxStore(schema);
      const text = (has: string) => [...store.hotPath.keys()].find((k) => k.includes(has))!;
      const claim =
        layout === 'before'
          ? {
              text: today.claim,
              values: () => [new Date(Date.now() + 1), batch, 'w', new Date(Date.now() + 60_000)],
            }
          : { text: text('with due as'), values: () => [null, batch, 'w', 60_000, null] };
      const vacuum = `"${schema}".messages`;
      out.push({
        layout,
        statement: 'claim',
        explained: await explainMedian(pool, claim.text, claim.values, { times: 5, vacuum }),
      });
      // Lease the batch for real, then measure its delivery.
      const { rows } = await pool.query<{ id: string }>(claim.text, claim.values());
      const ids = `{${rows.map((r) => r.id).join(',')}}`;
      const delivered =
        layout === 'before'
          ? { text: today.delivered, values: () => [ids, null, new Date()] }
          : { text: text('archived as'), values: () => [ids, null, null] };
      out.push({
        layout,
        statement: 'delivered',
        explained: await explainMedian(pool, delivered.text, delivered.values, { times: 5, vacuum }),
      });
      await pool.query(`drop schema "${schema}" cascade`);
    }
  } finally {
    await pool.end();
  }
  return out;
}

/** A markdown table of the rows, per row of the batch. */
export function hotPathTable(rows: HotPathRow[]): string {
  const lines = [
    '| layout | statement | time | per row | buffers | WAL records (main plan) | WAL bytes (all) | rows |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const { layout, statement, explained: e } of rows) {
    const per = e.rows ? `${((1000 * e.ms) / e.rows).toFixed(1)} us` : '-';
    lines.push(
      `| ${layout} | ${statement} | ${e.ms.toFixed(2)} ms | ${per} | ${e.buffers} | ${e.walRecords} | ${e.walBytes} | ${e.rows} |`,
    );
  }
  return lines.join('\n');
}

if (isMain(import.meta.url)) {
  const [retained = 1_000_000, batch = 500] = process.argv.slice(2).map(Number);
  const server = await startBenchPostgres();
  try {
    console.log(`hot path with ${retained} delivered rows retained, batch ${batch}`);
    console.log(hotPathTable(await hotPathExplain(server.url, retained, batch)));
  } finally {
    await server.stop();
  }
}
