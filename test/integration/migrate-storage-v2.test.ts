import { afterAll, beforeAll, expect, it } from 'vitest';
import { cleanupDelivered } from '../../src/core/maintenance/cleanup-delivered.js';
import { getMessage } from '../../src/core/maintenance/dead-letters.js';
import { NOOP_LOGGER } from '../../src/core/foundation/logger.js';
import { migrate } from '../../src/core/migrations/migrate.js';
import { LATEST_MIGRATION_VERSION, MIGRATIONS } from '../../src/core/migrations/index.js';
import { createRelay } from '../../src/core/relay/relay.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { RecordingPublisher } from '../support/recording-publisher.js';

// Migration 0007 on a table in today's (version 6) layout holding every kind of row. A pg Pool
// and a non-empty schema: the online part runs outside the transaction, CONCURRENTLY.
let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase({ migrate: false, poolSize: 6 });
  await migrate(t.pool, { schema: t.schema, migrations: MIGRATIONS.filter((m) => m.version <= 6) });
});
afterAll(() => t.close());

const m = () => `"${t.schema}".messages`;

async function snapshot(table: string, where = 'true') {
  const { rows } = await t.pool.query(
    `select id::text, message_id::text, status, result, dead_reason from "${t.schema}".${table}
      where ${where} order by id`,
  );
  return rows;
}

it('keeps every row and moves delivered ones to the archive; a relay then drains in key order', async () => {
  // k1: a delivered head (with its RouterOS answer), then two pending. k2: an in-flight head whose
  // relay crashed (lease expired), then a pending follower. A live lease, a dead row, 5,200
  // delivered rows (more than one move batch).
  await t.pool.query(
    `insert into ${m()} (message_id, type, destination, ordering_key, payload, status, attempts, delivered_at, result)
     values (gen_random_uuid(), 'k1.0', 'p', 'k1', '0', 'delivered', 1, now(), '{"ret":"*1A"}')`,
  );
  await t.pool.query(
    `insert into ${m()} (message_id, type, destination, ordering_key, payload)
     values (gen_random_uuid(), 'k1.1', 'p', 'k1', '1'), (gen_random_uuid(), 'k1.2', 'p', 'k1', '2')`,
  );
  await t.pool.query(
    `insert into ${m()} (message_id, type, destination, ordering_key, payload, status, attempts, locked_by,
                         locked_until, available_at)
     values (gen_random_uuid(), 'k2.0', 'p', 'k2', '0', 'in_flight', 1, 'crashed', now() - interval '1 minute',
             now() - interval '1 minute')`,
  );
  await t.pool.query(
    `insert into ${m()} (message_id, type, destination, ordering_key, payload)
     values (gen_random_uuid(), 'k2.1', 'p', 'k2', '1')`,
  );
  await t.pool.query(
    `insert into ${m()} (message_id, type, destination, payload, status, attempts, locked_by, locked_until, available_at)
     values (gen_random_uuid(), 'leased', 'p', '0', 'in_flight', 1, 'alive', now() + interval '1 hour',
             now() + interval '1 hour')`,
  );
  await t.pool.query(
    `insert into ${m()} (message_id, type, destination, payload, status, attempts, dead_at, dead_reason, last_error)
     values (gen_random_uuid(), 'dead', 'p', '0', 'dead', 3, now(), 'max_attempts', 'gave up after 3 attempts')`,
  );
  await t.pool.query(
    `insert into ${m()} (message_id, type, destination, payload, status, attempts, delivered_at, result)
     select gen_random_uuid(), 'old', 'p', to_jsonb(i), 'delivered', 1, now() - interval '1 day', jsonb_build_object('i', i)
       from generate_series(1, 5200) i`,
  );
  const before = await snapshot('messages');

  const result = await migrate(t.pool, { schema: t.schema });
  expect(result).toMatchObject({
    applied: MIGRATIONS.map((m) => m.version).filter((v) => v >= 7),
    version: LATEST_MIGRATION_VERSION,
  });

  // Every row, same id, message_id, status, result and reason; delivered ones in the archive.
  expect(await snapshot('all_messages')).toEqual(before);
  const archived = await snapshot('all_messages', `id in (select id from "${t.schema}".messages_archive)`);
  expect(archived).toEqual(before.filter((r) => r.status === 'delivered'));
  expect(archived).toHaveLength(5201);
  const hot = await snapshot('messages');
  expect(hot.map((r) => r.status).sort()).toEqual([
    'dead',
    'in_flight',
    'in_flight',
    'pending',
    'pending',
    'pending',
  ]);

  // The delivered head with its answer, found by message_id through getMessage.
  const head = before.find((r) => r.result?.ret === '*1A')!;
  const found = await getMessage(t.db, head.message_id, { schema: t.schema });
  expect(found).toMatchObject({ status: 'delivered', result: { ret: '*1A' } });

  // No index left that names a column the claim writes; none invalid.
  const { rows: indexes } = await t.pool.query(
    `select c.relname, i.indisvalid, pg_get_indexdef(i.indexrelid) as def
       from pg_index i join pg_class c on c.oid = i.indexrelid
      where i.indrelid = to_regclass($1)`,
    [m()],
  );
  for (const ix of indexes) {
    expect(ix.def).not.toMatch(/\b(status|attempts|locked_by|locked_until)\b/);
    expect(ix.indisvalid).toBe(true);
  }

  // Pending rows and the expired lease drain, per key in id order; the live lease is left alone.
  const pub = new RecordingPublisher('p');
  const relay = createRelay({ db: t.pool, schema: t.schema, publishers: { p: pub }, logger: NOOP_LOGGER });
  for (let round = 0; round < 5; round++) await relay.runOnce();
  await relay.stop();
  expect(pub.calls.map((c) => c.message.type).filter((x) => x.startsWith('k1'))).toEqual(['k1.1', 'k1.2']);
  expect(pub.calls.map((c) => c.message.type).filter((x) => x.startsWith('k2'))).toEqual(['k2.0', 'k2.1']);
  expect(pub.calls.map((c) => c.message.type)).not.toContain('leased');
  expect((await snapshot('messages')).map((r) => r.status).sort()).toEqual(['dead', 'in_flight']);

  // Migrating again is a no-op.
  expect(await migrate(t.pool, { schema: t.schema })).toMatchObject({
    applied: [],
    version: LATEST_MIGRATION_VERSION,
  });
});

it('rebuilds an index an interrupted CREATE INDEX CONCURRENTLY left invalid', async () => {
  const s = `"${t.schema}"`;
  // What a killed online part leaves: the version (and the ones after it) unrecorded and an invalid index.
  await t.pool.query(`delete from ${s}.migrations where version >= 7`);
  await t.pool.query(
    `update pg_index set indisvalid = false where indexrelid = to_regclass('${s}.messages_claim_idx')`,
  );
  expect(await migrate(t.pool, { schema: t.schema })).toMatchObject({
    applied: MIGRATIONS.map((m) => m.version).filter((v) => v >= 7),
    version: LATEST_MIGRATION_VERSION,
  });
  const { rows } = await t.pool.query(
    `select indisvalid from pg_index where indexrelid = to_regclass('${s}.messages_claim_idx')`,
  );
  expect(rows).toEqual([{ indisvalid: true }]);
});

it('gives a hot table too large for a short plain build every index, valid, built concurrently', async () => {
  // 20,000 rows still unfinished after the move: the plain builds would hold producers off for
  // their whole length, so each index comes from CREATE INDEX CONCURRENTLY instead.
  const schema = `${t.schema}_large`;
  await migrate(t.pool, { schema, migrations: MIGRATIONS.filter((m) => m.version <= 6) });
  await t.pool.query(
    `insert into "${schema}".messages (message_id, type, destination, ordering_key, payload)
     select gen_random_uuid(), 'backlog', 'p', 'k' || (i % 50), '{}' from generate_series(1, 20000) i`,
  );
  await migrate(t.pool, { schema });
  const { rows } = await t.pool.query(
    `select c.relname, i.indisvalid from pg_index i join pg_class c on c.oid = i.indexrelid
      where i.indrelid = to_regclass($1) and c.relname like 'messages_%_idx' order by 1`,
    [`"${schema}".messages`],
  );
  expect(rows).toEqual(
    ['claim', 'dead_at', 'key', 'park', 'parked', 'route_v2', 'tenant'].map((n) => ({
      relname: `messages_${n}_idx`,
      indisvalid: true,
    })),
  );
  const pub = new RecordingPublisher('p');
  const relay = createRelay({
    db: t.pool,
    schema,
    publishers: { p: pub },
    logger: NOOP_LOGGER,
    batchSize: 100,
  });
  await relay.runOnce();
  await relay.stop();
  expect(pub.calls.length).toBeGreaterThan(0);
});

// Relays of the release before v2 keep delivering rows in place while migrate moves delivered
// rows out, and migrate pauses between batches to leave them the database: a move that ran
// until a batch found nothing would chase them for as long as they run (100 s once, measured).
it('ends its move of delivered rows while old relays keep delivering in place; cleanup moves the rest', async () => {
  const schema = `${t.schema}_chase`;
  const hot = `"${schema}".messages`;
  await migrate(t.pool, { schema, migrations: MIGRATIONS.filter((m) => m.version <= 6) });
  await t.pool.query(
    `insert into ${hot} (message_id, type, destination, payload, status, attempts, delivered_at)
     select gen_random_uuid(), 'retained', 'p', '0', 'delivered', 1, now() - interval '1 day'
       from generate_series(1, 12000)`,
  );
  // An old relay's stream: 20 rows delivered in place every 10 ms until migrate returns.
  let streaming = true;
  const stream = (async () => {
    while (streaming) {
      await t.pool.query(
        `insert into ${hot} (message_id, type, destination, payload, status, attempts, delivered_at)
         select gen_random_uuid(), 'streamed', 'p', '0', 'delivered', 1, now() from generate_series(1, 20)`,
      );
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const migrated = await Promise.race([
    migrate(t.pool, { schema }).then(() => true),
    new Promise<false>((r) => setTimeout(() => r(false), 15_000)),
  ]);
  streaming = false;
  await stream;
  expect(migrated).toBe(true); // within 15 s, as the stream went on
  const count = async (sql: string) => (await t.pool.query<{ n: number }>(sql)).rows[0]!.n;
  const all = await count(`select count(*)::int as n from "${schema}".all_messages`);
  // Every retained row moved; what was streamed after the last batch waits in place for cleanup.
  expect(await count(`select count(*)::int as n from ${hot} where type = 'retained'`)).toBe(0);
  await cleanupDelivered(t.pool, { schema, olderThanDays: 30 });
  expect(await count(`select count(*)::int as n from ${hot}`)).toBe(0);
  expect(await count(`select count(*)::int as n from "${schema}".messages_archive`)).toBe(all);
  await t.pool.query(`drop schema "${schema}" cascade`);
}, 30_000);
