/**
 * Storage v2 experiment (issue 14): today's claim and write-back against the v2 candidates of
 * storage-v2-sql.ts, on one embedded PostgreSQL, in one run, so every figure is a same-run ratio.
 * Prints EXPLAIN (ANALYZE, BUFFERS, WAL) medians, SQL-level drain rates next to graphile-worker,
 * the migration's row counts and the idempotency race's outcome. Results: README.md here.
 * Run: npx tsx bench/experiments/storage-v2.ts [backlog=200000] [healthy=10000] [keys=100] [drain=30000]
 */
import os from 'node:os';
import type pg from 'pg';
import { migrate } from '../../src/core/migrations/migrate.js';
import { MIGRATIONS } from '../../src/core/migrations/index.js';
import { drainGraphile, GRAPHILE_BEST, prepareGraphile } from '../competitors.js';
import { benchPool, uniqueName } from '../support/bench-pool.js';
import { startBenchPostgres } from '../support/bench-postgres.js';
import { type Explained, explainMedian } from '../support/explain.js';
import { median } from '../support/stats.js';
import {
  migration7OnlineSql,
  migration7Sql,
  moveDeliveredBatchSql,
  todayStatements,
  v2Statements,
} from './storage-v2-sql.js';

const [BACKLOG = 200_000, HEALTHY = 10_000, KEYS = 100, DRAIN = 30_000] = process.argv.slice(2).map(Number);
const LEASE_MS = 60_000;
const out = (line: string) => console.log(line);

type Layout = 'today' | 'v2';

async function createSchema(pool: pg.Pool, layout: Layout): Promise<string> {
  const schema = uniqueName(`exp_${layout}`);
  // The layout before storage v2 (migration 7, which this experiment designed and then applies by hand).
  await migrate(pool, { schema, migrations: MIGRATIONS.filter((m) => m.version <= 6) });
  if (layout === 'v2') await migrateToV2(pool, `"${schema}"`);
  return schema;
}

/** Migration 7 as migrate() would run it: part 1 in a transaction, then the online steps. Returns ms per part. */
async function migrateToV2(pool: pg.Pool, s: string) {
  let t0 = performance.now();
  await inTransaction(pool, (c) => c.query(migration7Sql(s)));
  const part1Ms = performance.now() - t0;
  t0 = performance.now();
  for (const statement of migration7OnlineSql(s)) await pool.query(statement);
  const indexMs = performance.now() - t0;
  t0 = performance.now();
  let moved = 0;
  let longestBatchMs = 0;
  for (;;) {
    const b0 = performance.now();
    const r = await pool.query(moveDeliveredBatchSql(s), [1_000]);
    longestBatchMs = Math.max(longestBatchMs, performance.now() - b0);
    moved += r.rowCount ?? 0;
    if ((r.rowCount ?? 0) < 1_000) break;
  }
  return { part1Ms, indexMs, moveMs: performance.now() - t0, moved, longestBatchMs };
}

async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('begin');
    const r = await fn(c);
    await c.query('commit');
    return r;
  } catch (error) {
    await c.query('rollback');
    throw error;
  } finally {
    c.release();
  }
}

/** Healthy keyed messages (round-robin over `keys`), or unkeyed ones when keys = 0. */
async function addHealthy(pool: pg.Pool, schema: string, n: number, keys: number): Promise<void> {
  await pool.query(
    `insert into "${schema}".messages (message_id, type, destination, ordering_key, payload)
     select gen_random_uuid(), 'exp', 'noop', case when $2::int > 0 then 'k' || (g % $2::int) end,
            jsonb_build_object('orderId', g, 'amount', 4200, 'currency', 'EUR')
       from generate_series(1, $1::int) g`,
    [n, keys],
  );
}

/** A blocked key: its head failed with a one-hour backoff, `n` followers behind it. */
async function addBlocked(pool: pg.Pool, schema: string, n: number): Promise<void> {
  await pool.query(
    `insert into "${schema}".messages (message_id, type, destination, ordering_key, payload, attempts, available_at, last_error)
     values (gen_random_uuid(), 'exp', 'noop', 'blocked-router', '{}', 1, now() + interval '1 hour', 'router offline')`,
  );
  await pool.query(
    `insert into "${schema}".messages (message_id, type, destination, ordering_key, payload, created_at, available_at)
     select gen_random_uuid(), 'exp', 'noop', 'blocked-router', jsonb_build_object('n', g),
            now() - interval '10 minutes', now() - interval '10 minutes'
       from generate_series(1, $1::int) g`,
    [n],
  );
}

const claimArgs = (limit: number) => () => [
  new Date(Date.now() + 1),
  limit,
  'exp',
  new Date(Date.now() + LEASE_MS),
];
const row = (label: string, e: Explained, perRows = e.rows) =>
  `| ${label} | ${e.ms.toFixed(2)} ms | ${perRows ? ((1000 * e.ms) / perRows).toFixed(1) : '-'} us | ${e.buffers} | ${e.walRecords} / ${e.walBytes} B | ${e.rows} |`;

async function claimCosts(pool: pg.Pool): Promise<void> {
  out('\n### Claim, batch 500 (EXPLAIN ANALYZE, median of 7 (3 with the backlog), each rolled back)');
  out(
    '| candidate, table | time | per claimed row | buffers | WAL records (main plan) / bytes (all) | rows claimed |',
  );
  out('|---|---|---|---|---|---|');
  for (const blocked of [false, true]) {
    const shape = blocked
      ? `${HEALTHY} over ${KEYS} keys + ${BACKLOG} behind a failing head`
      : `${HEALTHY} over ${KEYS} keys`;
    const today = await createSchema(pool, 'today');
    const v2 = await createSchema(pool, 'v2');
    for (const s of [today, v2]) {
      if (blocked) await addBlocked(pool, s, BACKLOG);
      await addHealthy(pool, s, HEALTHY, KEYS);
      await pool.query(`vacuum analyze "${s}".messages`);
    }
    const T = todayStatements(`"${today}"`);
    const V = v2Statements(`"${v2}"`);
    out(
      row(`today, ${shape}`, await explainMedian(pool, T.claim, claimArgs(500), { times: blocked ? 3 : 7 })),
    );
    out(
      row(
        `skip-scan (today's schema), ${shape}`,
        await explainMedian(pool, T.skipScanClaim, claimArgs(500), { times: blocked ? 3 : 7 }),
      ),
    );
    out(
      row(
        `v2 before parking, ${shape}`,
        await explainMedian(pool, V.claim, claimArgs(500), { times: blocked ? 3 : 7 }),
      ),
    );
    // Park until nothing is left to park: a one-time cost per follower, measured in total.
    let parked = 0;
    let parkMs = 0;
    for (;;) {
      const t0 = performance.now();
      const r = await pool.query(V.park, [new Date(Date.now() + 1), 10_000]);
      parkMs += performance.now() - t0;
      parked += r.rowCount ?? 0;
      if ((r.rowCount ?? 0) < 10_000) break;
    }
    await pool.query(`vacuum analyze "${v2}".messages`);
    out(
      `| v2 park pass, ${shape} | ${parkMs.toFixed(0)} ms total | ${parked ? ((1000 * parkMs) / parked).toFixed(1) : '-'} us per parked row | | | ${parked} parked |`,
    );
    out(
      row(
        `v2 after parking, ${shape}`,
        await explainMedian(pool, V.claim, claimArgs(500), { times: blocked ? 3 : 7 }),
      ),
    );
    await pool.query(`drop schema "${today}" cascade; drop schema "${v2}" cascade`);
  }
}

async function writeBackCosts(pool: pg.Pool): Promise<void> {
  out(
    '\n### Write-back of 500 delivered rows (EXPLAIN ANALYZE, median of 7, each rolled back), 1M rows already delivered',
  );
  out('| candidate | time | per row | buffers | WAL records (main plan) / bytes (all) | rows |');
  out('|---|---|---|---|---|---|');
  for (const [layout, fillfactor] of [
    ['today', 90],
    ['v2', 100],
    ['v2', 70],
    ['v2', 50],
  ] as const) {
    const s = await createSchema(pool, layout);
    await pool.query(`alter table "${s}".messages set (fillfactor = ${fillfactor})`);
    // A retained history: today's rows stay in the table; v2's live in the archive.
    await pool.query(
      `insert into "${s}".${layout === 'today' ? 'messages' : 'messages_archive'}
         (id, message_id, type, destination, kind, payload, headers, attempts, max_attempts, created_at, delivered_at${layout === 'today' ? ', status' : ''})
       ${layout === 'today' ? 'overriding system value' : ''}
       select 10000000 + g, gen_random_uuid(), 'exp', 'noop', 'event', '{}', '{}', 1, 25, now(), now()${layout === 'today' ? `, 'delivered'` : ''}
         from generate_series(1, 1000000) g`,
    );
    await addHealthy(pool, s, 5_000, 0);
    await pool.query(`vacuum analyze "${s}".messages`);
    const st = layout === 'today' ? todayStatements(`"${s}"`) : v2Statements(`"${s}"`);
    // Claim for real (committed), then measure the write-back of what was claimed.
    const { rows } = await pool.query(st.claim, claimArgs(500)());
    const ids = `{${rows.map((r) => r.id).join(',')}}`;
    const claimE = await explainMedian(pool, st.claim, claimArgs(500), { vacuum: `"${s}".messages` });
    out(row(`${layout} fillfactor ${fillfactor}: claim (500 unkeyed)`, claimE));
    if (layout === 'v2')
      out(
        row(
          `v2 fillfactor ${fillfactor}: same claim moving available_at (never HOT)`,
          await explainMedian(pool, v2Statements(`"${s}"`).claimMovingAvailableAt, claimArgs(500), {
            vacuum: `"${s}".messages`,
          }),
        ),
      );
    const e = await explainMedian(pool, st.delivered, () => [ids, null, new Date()], {
      vacuum: `"${s}".messages`,
    });
    out(row(`${layout} fillfactor ${fillfactor}: delivered write-back`, e, 500));
    await pool.query(`drop schema "${s}" cascade`);
  }
}

/** getMessage and cleanup against an archive of 1M rows (BRIN on id and delivered_at). */
async function archiveReads(pool: pg.Pool): Promise<void> {
  out('\n### Reads and cleanup with 1M archived rows (EXPLAIN ANALYZE, median of 7)');
  out('| statement | time | buffers |');
  out('|---|---|---|');
  const s = await createSchema(pool, 'v2');
  await pool.query(
    `insert into "${s}".messages_archive (id, message_id, type, destination, kind, payload, headers, attempts, max_attempts, created_at, delivered_at)
     select g, gen_random_uuid(), 'exp', 'noop', 'event', jsonb_build_object('g', g), '{}', 1, 25,
            now() - interval '40 days' + g * interval '3 ms', now() - interval '40 days' + g * interval '3 ms'
       from generate_series(1, 1000000) g`,
  );
  await pool.query(`vacuum analyze "${s}".messages_archive`);
  const V = v2Statements(`"${s}"`);
  const { rows } = await pool.query(`select message_id from "${s}".messages_archive where id = 654321`);
  const show = (label: string, e: Explained) => out(`| ${label} | ${e.ms.toFixed(2)} ms | ${e.buffers} |`);
  show('getMessage by id (archived, BRIN)', await explainMedian(pool, V.getById, () => ['654321']));
  show(
    'getMessage by message_id (archived)',
    await explainMedian(pool, V.getByMessageId, () => [rows[0].message_id]),
  );
  show('stats (hot table)', await explainMedian(pool, V.stats, () => []));
  show(
    'cleanup batch of 5,000 older than 30 days (BRIN)',
    await explainMedian(pool, V.cleanupBatch, () => [new Date(Date.now() - 30 * 86_400_000), 5_000]),
  );
  await pool.query(`drop schema "${s}" cascade`);
}

/** SQL-level drain: `workers` loops of claim(500) -> no-op -> write-back, until the table is empty. */
async function sqlDrain(
  url: string,
  layout: Layout,
  messages: number,
  keys: number,
  backlog: number,
  workers = 2,
  preParked = false,
) {
  const pool = benchPool(url, workers + 1);
  const s = await createSchema(pool, layout);
  try {
    if (backlog) await addBlocked(pool, s, backlog);
    // The backlog as a running relay would have left it: parked while it accumulated.
    if (preParked && backlog) {
      const P = v2Statements(`"${s}"`).park;
      while (((await pool.query(P, [new Date(Date.now() + 1), 10_000])).rowCount ?? 0) === 10_000);
    }
    await addHealthy(pool, s, messages, keys);
    await pool.query(`vacuum analyze "${s}".messages`);
    const st = layout === 'today' ? todayStatements(`"${s}"`) : v2Statements(`"${s}"`);
    const park = layout === 'v2' ? v2Statements(`"${s}"`).park : undefined;
    let delivered = 0;
    const started = performance.now();
    const deadline = started + 60_000;
    await Promise.all(
      Array.from({ length: workers }, async (_, w) => {
        const c = await pool.connect();
        try {
          let idle = 0;
          while (delivered < messages && performance.now() < deadline) {
            const { rows } = await c.query({ name: `claim_${w}`, text: st.claim, values: claimArgs(500)() });
            if (rows.length > 0) {
              await c.query({
                name: `done_${w}`,
                text: st.delivered,
                values: [`{${rows.map((r) => r.id).join(',')}}`, null, new Date()],
              });
              delivered += rows.length;
            }
            // A short claim means the due range ran out: park what it walked past (v2 only).
            if (park && rows.length < 500)
              await c.query({ name: `park_${w}`, text: park, values: [new Date(Date.now() + 1), 5_000] });
            if (rows.length === 0 && ++idle > 2) await new Promise((r) => setTimeout(r, 2));
          }
        } finally {
          c.release();
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    return { perSecond: delivered / seconds, delivered, seconds };
  } finally {
    await pool.query(`drop schema "${s}" cascade`).catch(() => undefined);
    await pool.end();
  }
}

async function drains(url: string): Promise<void> {
  out(
    `\n### Drain msg/s, SQL loops (2 connections, claim 500 -> no-op -> write-back), 3 alternating runs, median`,
  );
  out('| workload | today | v2 | graphile-worker best (real runner) |');
  out('|---|---|---|---|');
  const gw = await prepareGraphile(url);
  const shapes = [
    { label: `${DRAIN} unkeyed`, messages: DRAIN, keys: 0, backlog: 0, gw: true, preParked: false },
    {
      label: `${HEALTHY} over ${KEYS} keys`,
      messages: HEALTHY,
      keys: KEYS,
      backlog: 0,
      gw: false,
      preParked: false,
    },
    {
      label: `${HEALTHY} over ${KEYS} keys + ${BACKLOG} blocked, parking inside the drain`,
      messages: HEALTHY,
      keys: KEYS,
      backlog: BACKLOG,
      gw: false,
      preParked: false,
    },
    {
      label: `${HEALTHY} over ${KEYS} keys + ${BACKLOG} blocked, parked before the clock starts (v2 only)`,
      messages: HEALTHY,
      keys: KEYS,
      backlog: BACKLOG,
      gw: false,
      preParked: true,
    },
  ];
  for (const shape of shapes) {
    const t: number[] = [];
    const v: number[] = [];
    const g: number[] = [];
    const notes: string[] = [];
    for (let r = 0; r < 3; r++) {
      if (!shape.preParked) {
        const a = await sqlDrain(url, 'today', shape.messages, shape.keys, shape.backlog);
        if (a.delivered < shape.messages) notes.push(`today stopped at 60 s with ${a.delivered}`);
        t.push(a.perSecond);
      }
      const b = await sqlDrain(url, 'v2', shape.messages, shape.keys, shape.backlog, 2, shape.preParked);
      if (b.delivered < shape.messages) notes.push(`v2 stopped at 60 s with ${b.delivered}`);
      v.push(b.perSecond);
      if (shape.gw) g.push((await drainGraphile(url, gw, shape.messages, GRAPHILE_BEST)).perSecond);
      if (shape.backlog) break; // one run: today's takes the full minute
    }
    const f = (x: number[]) =>
      x.length ? `${Math.round(median(x))} (${x.map(Math.round).join(' / ')})` : '-';
    out(`| ${shape.label} | ${f(t)} | ${f(v)} | ${f(g)} |${notes.length ? ` ${notes.join('; ')}` : ''}`);
  }
}

async function migrationCheck(pool: pg.Pool): Promise<void> {
  out('\n### Migration 7 on a table holding every status');
  const schema = uniqueName('exp_mig');
  await migrate(pool, { schema });
  const s = `"${schema}"`;
  await pool.query(
    `insert into ${s}.messages (message_id, type, destination, ordering_key, payload, status, attempts, locked_by, locked_until, delivered_at, dead_at, dead_reason, last_error, result)
     select gen_random_uuid(), 'mig', 'noop', 'k' || (g % 7), jsonb_build_object('g', g),
            (array['pending','in_flight','delivered','dead'])[1 + g % 4], g % 4,
            case when g % 4 = 1 then 'old-relay' end, case when g % 4 = 1 then now() + interval '1 minute' end,
            case when g % 4 = 2 then now() end, case when g % 4 = 3 then now() end,
            case when g % 4 = 3 then 'permanent' end, case when g % 4 = 3 then 'gone' end,
            case when g % 4 = 2 then jsonb_build_object('ok', g) end
       from generate_series(1, 100000) g`,
  );
  const before = await pool.query(
    `select status, count(*)::int n, sum(hashtext(message_id::text))::bigint h from ${s}.messages group by 1 order by 1`,
  );
  // A producer keeps adding one message per statement throughout: its slowest insert shows
  // whether any step blocked writers.
  let producing = true;
  let slowestInsertMs = 0;
  let inserts = 0;
  const producer = (async () => {
    while (producing) {
      const t = performance.now();
      await pool.query(
        `insert into ${s}.messages (message_id, type, destination, payload) values (gen_random_uuid(), 'during', 'noop', '{}')`,
      );
      slowestInsertMs = Math.max(slowestInsertMs, performance.now() - t);
      inserts++;
    }
  })();
  const m = await migrateToV2(pool, s).finally(() => {
    producing = false;
  });
  await producer;
  const ms = m.part1Ms + m.indexMs + m.moveMs;
  out(
    `part 1 (transaction) ${m.part1Ms.toFixed(0)} ms, online indexes ${m.indexMs.toFixed(0)} ms, ` +
      `${m.moved} delivered rows moved in ${m.moveMs.toFixed(0)} ms (longest batch ${m.longestBatchMs.toFixed(0)} ms); ` +
      `${inserts} producer inserts meanwhile, slowest ${slowestInsertMs.toFixed(0)} ms`,
  );
  const after = await pool.query(
    `select status, count(*)::int n, sum(hashtext(message_id::text))::bigint h from ${s}.messages where type <> 'during' group by 1
     union all select 'delivered (archive)', count(*)::int, sum(hashtext(message_id::text))::bigint from ${s}.messages_archive
     union all select 'archive rows with result', count(*)::int, null from ${s}.messages_archive where result is not null
     union all select 'hot rows added during the migration', count(*)::int, null from ${s}.messages where type = 'during'
     order by 1`,
  );
  out(`before: ${JSON.stringify(before.rows)}`);
  out(`after (${ms.toFixed(0)} ms): ${JSON.stringify(after.rows)}`);
  await pool.query(`drop schema ${s} cascade`);
}

/**
 * The move race: a message is delivered (moved to the archive) while the same caller-supplied
 * message_id is added again. Rounds: the mover holds its transaction open until the adder's
 * insert is blocked on the hot row, then commits. Counts rows per message_id afterwards.
 */
async function idempotencyRace(
  url: string,
  isolation: 'read committed' | 'repeatable read',
): Promise<string> {
  const pool = benchPool(url, 4);
  const schema = await createSchema(pool, 'v2');
  const V = v2Statements(`"${schema}"`);
  const rounds = 30;
  let duplicatesWithoutCheck = 0;
  let duplicatesWithCheck = 0;
  let serializationErrors = 0;
  try {
    for (let i = 0; i < rounds; i++) {
      for (const withCheck of [false, true]) {
        const { rows } = await pool.query(
          `insert into "${schema}".messages (message_id, type, destination, payload) values (gen_random_uuid(), 'x', 'noop', '{}') returning id, message_id`,
        );
        const { id, message_id: mid } = rows[0];
        const mover = await pool.connect();
        const adder = await pool.connect();
        try {
          await adder.query(`begin isolation level ${isolation}`);
          await adder.query('select 1'); // the snapshot (repeatable read) predates the move
          await mover.query('begin');
          await mover.query(V.delivered, [`{${id}}`, null, new Date()]);
          const insert = adder.query(V.insertCallerIds, [[mid], [null]]);
          // Wait until the adder waits on the mover's lock, then commit the move.
          for (let n = 0; n < 500; n++) {
            const w = await pool.query(
              `select count(*)::int n from pg_stat_activity where wait_event_type = 'Lock' and query like 'insert into "${schema}"%'`,
            );
            if (w.rows[0].n > 0) break;
            await new Promise((r) => setTimeout(r, 2));
          }
          await mover.query('commit');
          try {
            const inserted = (await insert).rows.map((r) => r.id);
            if (withCheck && inserted.length) await adder.query(V.dropMovedDuplicates, [inserted]);
            await adder.query('commit');
          } catch (error) {
            await adder.query('rollback');
            if ((error as { code?: string }).code === '40001') serializationErrors++;
            else throw error;
          }
        } finally {
          mover.release();
          adder.release();
        }
        const c = await pool.query(
          `select (select count(*) from "${schema}".messages where message_id = $1) + (select count(*) from "${schema}".messages_archive where message_id = $1) as n`,
          [mid],
        );
        if (Number(c.rows[0].n) > 1) {
          if (withCheck) duplicatesWithCheck++;
          else duplicatesWithoutCheck++;
        }
      }
    }
  } finally {
    await pool.query(`drop schema "${schema}" cascade`).catch(() => undefined);
    await pool.end();
  }
  return `${isolation}: ${rounds} rounds each; duplicates with insert-time NOT EXISTS only: ${duplicatesWithoutCheck}; with the check after the insert: ${duplicatesWithCheck}; serialization errors (caller retries, no duplicate): ${serializationErrors}`;
}

const server = await startBenchPostgres();
const pool = benchPool(server.url, 4);
try {
  const { rows } = await pool.query('show server_version');
  out(
    `storage v2 experiment: ${os.cpus().length} cores, PostgreSQL ${rows[0].server_version}, Node ${process.version}, 1-min load ${os.loadavg()[0]!.toFixed(1)} at start`,
  );
  // EXP_PARTS=claims,writeback,reads,migration,race,drain runs a subset (default: all).
  const parts = process.env.EXP_PARTS?.split(',');
  const part = (name: string) => !parts || parts.includes(name);
  if (part('claims')) await claimCosts(pool);
  if (part('writeback')) await writeBackCosts(pool);
  if (part('reads')) await archiveReads(pool);
  if (part('migration')) await migrationCheck(pool);
  if (part('race')) {
    out('\n### Idempotency across the move (mover commits while the re-add waits on the hot row)');
    out(await idempotencyRace(server.url, 'read committed'));
    out(await idempotencyRace(server.url, 'repeatable read'));
  }
  if (part('drain')) await drains(server.url);
  out(`\n1-min load ${os.loadavg()[0]!.toFixed(1)} at end`);
} finally {
  await pool.end();
  await server.stop();
}
