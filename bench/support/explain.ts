import type pg from 'pg';
import { median } from './stats.js';

/** One EXPLAIN (ANALYZE, BUFFERS, WAL) of a statement, summed up. */
export interface Explained {
  ms: number;
  buffers: number;
  walRecords: number;
  walBytes: number;
  rows: number;
}

/**
 * Shared buffers a plan touched. A data-modifying CTE that nothing reads (the archive insert) runs
 * after the main plan, outside its counters, so such CTE subplans are added in.
 */
function planBuffers(top: any): number {
  const referenced = new Set<string>();
  const walk = (n: any) => {
    if (n['CTE Name']) referenced.add(n['CTE Name']);
    for (const c of n.Plans ?? []) walk(c);
  };
  walk(top);
  const own = (n: any) => (n['Shared Hit Blocks'] ?? 0) + (n['Shared Read Blocks'] ?? 0);
  let total = own(top);
  for (const c of top.Plans ?? []) {
    const name = /^CTE (.+)$/.exec(c['Subplan Name'] ?? '')?.[1];
    if (name && !referenced.has(name)) total += own(c);
  }
  return total;
}

/**
 * EXPLAIN (ANALYZE, BUFFERS, WAL) of one statement inside a transaction that is rolled back.
 * WAL is the insert position's advance around the statement (this server runs nothing else),
 * which counts every CTE; EXPLAIN's own WAL counters would miss the unreferenced ones.
 */
export async function explain(pool: pg.Pool, text: string, values: unknown[]): Promise<Explained> {
  const c = await pool.connect();
  try {
    await c.query('begin');
    // Assign the xid first, so its WAL is not counted against the statement.
    await c.query('select pg_current_xact_id()');
    const before = (await c.query('select pg_current_wal_insert_lsn() as l')).rows[0].l;
    const { rows } = await c.query(`explain (analyze, buffers, wal, format json) ${text}`, values);
    const wal = await c.query(`select pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1)::int as bytes`, [
      before,
    ]);
    const top = rows[0]['QUERY PLAN'][0];
    const p = top.Plan;
    return {
      ms: top['Execution Time'],
      buffers: planBuffers(p),
      walRecords: p['WAL Records'] ?? 0,
      walBytes: wal.rows[0].bytes,
      rows: p['Actual Rows'] ?? 0,
    };
  } finally {
    await c.query('rollback');
    c.release();
  }
}

/** Median of `times` EXPLAINs (each rolled back, so each sees the same table). */
export async function explainMedian(
  pool: pg.Pool,
  text: string,
  values: () => unknown[],
  options: { times?: number; vacuum?: string } = {},
) {
  const runs: Explained[] = [];
  for (let i = 0; i < (options.times ?? 7); i++) {
    // A rolled-back UPDATE leaves its new row versions on the page: without a vacuum the next
    // run finds less room for HOT updates than a real claim would.
    if (options.vacuum) await pool.query(`vacuum ${options.vacuum}`);
    runs.push(await explain(pool, text, values()));
  }
  const m = median(runs.map((r) => r.ms));
  const at = runs.find((r) => r.ms === m) ?? runs[0]!;
  return { ...at, ms: m };
}
