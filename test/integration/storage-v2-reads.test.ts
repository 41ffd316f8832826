import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cleanupDelivered } from '../../src/core/maintenance/cleanup-delivered.js';
import { getMessage, listDead, replayDead } from '../../src/core/maintenance/dead-letters.js';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { getStats } from '../../src/core/maintenance/outbox-stats.js';
import { sqlRunner } from '../../src/core/foundation/queryable.js';
import { StatusStore } from '../../src/core/store/status-store.js';
import { MaintenanceStore } from '../../src/core/store/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { explainingRunner, planNodes } from '../support/explain-plan.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.close());
beforeEach(async () => {
  await t.pool.query(`truncate "${t.schema}".messages, "${t.schema}".messages_archive`);
});

/**
 * Appends `n` delivered rows to the archive in delivery order, as storage v2's write-back does,
 * `deliveredAt` being an SQL expression of g (1..n, oldest first). Returns their message ids.
 */
async function archive(
  n: number,
  deliveredAt: string,
  extra: { destination?: string } = {},
): Promise<string[]> {
  const { rows } = await t.pool.query<{ message_id: string }>(
    `insert into "${t.schema}".messages_archive
       (id, message_id, kind, type, destination, payload, headers, attempts, max_attempts, result,
        created_at, available_at, delivered_at)
     select nextval(pg_get_serial_sequence('"${t.schema}".messages', 'id')), gen_random_uuid(), 'command',
            'pppoe.create', $2, jsonb_build_object('g', g), '{}', 1, 25,
            jsonb_build_object('device', 'tower-1', 'id', '*' || g), at, at, at
       from (select g, ${deliveredAt} as at from generate_series(1, $1) g) r
      order by at
     returning message_id`,
    [n, extra.destination ?? 'routeros:tower-1'],
  );
  return rows.map((r) => r.message_id);
}

/** Adds `n` messages through the public API and marks them as the given state in place. */
async function addHot(n: number, type: string): Promise<void> {
  await createOutbox({ schema: t.schema }).addMany(
    t.db,
    Array.from({ length: n }, (_, i) => ({ type, payload: { i } })),
  );
}

describe('getMessage and stats see delivered rows in the archive', () => {
  it('finds an archived row by id and by message_id, with its RouterOS result, as delivered', async () => {
    await addHot(1, 'still.pending');
    const [messageId] = await archive(1, `now() - interval '1 hour'`);
    const { rows } = await t.pool.query(
      `select id::text from "${t.schema}".messages_archive where message_id = $1`,
      [messageId],
    );
    for (const ref of [messageId!, rows[0].id as string]) {
      const m = await getMessage(t.db, ref, { schema: t.schema });
      expect(m).toMatchObject({
        messageId,
        status: 'delivered',
        kind: 'command',
        result: { device: 'tower-1', id: '*1' },
        lastError: null,
        deadReason: null,
        deadAt: null,
      });
      expect(m?.deliveredAt).toBeInstanceOf(Date);
    }
    const pending = await t.pool.query(`select message_id from "${t.schema}".messages`);
    expect((await getMessage(t.db, pending.rows[0].message_id, { schema: t.schema }))?.status).toBe(
      'pending',
    );
    expect(
      await getMessage(t.db, '00000000-0000-7000-8000-000000000000', { schema: t.schema }),
    ).toBeUndefined();
  });

  it('counts archived rows as delivered, exactly and (after ANALYZE) as an estimate', async () => {
    await archive(40, `now() - interval '1 hour'`);
    await addHot(3, 'open');
    // One row an older relay marked delivered in place: delivered too, never pending.
    await t.pool.query(
      `update "${t.schema}".messages set status = 'delivered', delivered_at = now()
        where id = (select min(id) from "${t.schema}".messages)`,
    );
    const exact = await getStats(t.db, { schema: t.schema, exact: true });
    expect(exact).toMatchObject({
      deliveredIsEstimate: false,
      byStatus: { pending: 2, in_flight: 0, delivered: 41, dead: 0 },
    });
    expect(exact.byDestination).toEqual([
      { destination: 'default', status: 'pending', count: 2, oldestAgeSeconds: expect.any(Number) },
    ]);
    await t.pool.query(`analyze "${t.schema}".messages_archive`);
    const fast = await getStats(t.db, { schema: t.schema });
    expect(fast).toMatchObject({ deliveredIsEstimate: true, byStatus: { pending: 2, delivered: 41 } });
  });
});

describe('cleanup over the archive', () => {
  it('moves rows delivered in place to the archive first, then deletes archive rows older than the cutoff', async () => {
    const old = await archive(7, `now() - interval '40 days' + make_interval(secs => g)`);
    const recent = await archive(5, `now() - interval '1 day' + make_interval(secs => g)`);
    await addHot(6, 'hot');
    const hot = `"${t.schema}".messages`;
    // What a relay older than storage v2 leaves during a rolling deploy: delivered in place.
    await t.pool.query(
      `update ${hot} set status = 'delivered', delivered_at = now() - interval '40 days', result = '{"old":true}'
        where id in (select id from ${hot} order by id limit 2)`,
    );
    await t.pool.query(
      `update ${hot} set status = 'delivered', delivered_at = now() - interval '2 days', result = '{"kept":true}'
        where id in (select id from ${hot} where delivered_at is null order by id limit 1)`,
    );
    await t.pool.query(
      `update ${hot} set status = 'dead', dead_at = now() - interval '90 days', dead_reason = 'permanent'
        where id in (select id from ${hot} where delivered_at is null order by id limit 1)`,
    );
    const { rows: keptRows } = await t.pool.query(`select message_id from ${hot} where result ? 'kept'`);

    const result = await cleanupDelivered(t.db, { schema: t.schema, olderThanDays: 30, batchSize: 4 });
    // 7 archived + 2 moved, all 40 days old; the moved rows count only once deleted.
    expect(result.deleted).toBe(9);

    const { rows } = await t.pool.query(
      `select status, count(*)::int as n from "${t.schema}".all_messages group by 1 order by 1`,
    );
    expect(rows).toEqual([
      { status: 'dead', n: 1 },
      { status: 'delivered', n: 6 },
      { status: 'pending', n: 2 },
    ]);
    // Nothing marked delivered stays in the hot table: the moved row kept its result.
    expect((await t.pool.query(`select 1 from ${hot} where delivered_at is not null`)).rowCount).toBe(0);
    const kept = await getMessage(t.db, keptRows[0].message_id, { schema: t.schema });
    expect(kept).toMatchObject({ status: 'delivered', result: { kept: true } });
    for (const id of old) expect(await getMessage(t.db, id, { schema: t.schema })).toBeUndefined();
    for (const id of recent)
      expect((await getMessage(t.db, id, { schema: t.schema }))?.status).toBe('delivered');
  });

  it('deletes in bounded batches through the index on delivered_at, never a sequential scan of the archive', async () => {
    // Many rows in delivery order, most of them past retention, as a year of deliveries leaves.
    await archive(200_000, `now() - interval '60 days' + make_interval(secs => g * 20)`);
    await t.pool.query(`vacuum analyze "${t.schema}".messages_archive`);
    const store = new MaintenanceStore(t.schema);
    // The statement the store runs, explained instead of executed: the first batch and one that
    // continues from where an earlier batch ended.
    const explain = explainingRunner(sqlRunner(t.db));
    for (const after of [null, new Date(Date.now() - 45 * 86_400_000)]) {
      await store.deleteDeliveredBatch(explain.run, { olderThanMs: 30 * 86_400_000, limit: 5000, after });
    }
    const nodes = explain.plans
      .flatMap((plan) => planNodes(plan))
      .map((node) => ({ type: node['Node Type'], relation: node['Relation Name'] }));
    expect(nodes.filter((n) => n.relation === 'messages_archive').map((n) => n.type)).not.toContain(
      'Seq Scan',
    );
    expect(nodes.map((n) => n.type)).toContain('Tid Scan');
    expect(nodes.filter((n) => n.relation === 'messages_archive' && n.type.startsWith('Index'))).toHaveLength(
      2,
    );

    const result = await cleanupDelivered(t.db, { schema: t.schema, olderThanDays: 30, batchSize: 5000 });
    const { rows } = await t.pool.query(
      `select count(*)::int as n, min(delivered_at) >= now() - interval '30 days' as all_recent
         from "${t.schema}".messages_archive`,
    );
    expect(result.deleted + rows[0].n).toBe(200_000);
    expect(rows[0].n).toBeGreaterThan(0);
    expect(rows[0].all_recent).toBe(true);
    expect(result.batches).toBeGreaterThanOrEqual(result.deleted / 5000);
  });
});

describe('dead letters and the status page read v2 predicates', () => {
  it('replays a dead row as unparked, and lists it by dead_at', async () => {
    await addHot(2, 'poison');
    const hot = `"${t.schema}".messages`;
    await t.pool.query(
      `update ${hot} set status = 'dead', dead_at = now(), dead_reason = 'permanent', parked = true`,
    );
    expect((await listDead(t.db, { type: 'poison' }, { schema: t.schema })).length).toBe(2);
    expect(await replayDead(t.db, { type: 'poison' }, { schema: t.schema })).toEqual({ replayed: 2 });
    const { rows } = await t.pool.query(`select status, parked, dead_at from ${hot}`);
    expect(rows).toEqual([
      { status: 'pending', parked: false, dead_at: null },
      { status: 'pending', parked: false, dead_at: null },
    ]);
  });

  it('counts deliveries per minute from the archive and leases over in-flight rows', async () => {
    await archive(3, `now() - interval '2 minutes'`, { destination: 'webhook:acme' });
    await addHot(2, 'leased');
    await t.pool.query(
      `update "${t.schema}".messages set status = 'in_flight', attempts = 1, locked_by = 'w-1',
              locked_until = now() + interval '30 seconds'`,
    );
    const store = new StatusStore(t.schema);
    const run = sqlRunner(t.db);
    const now = await store.now(run);
    const minutes = await store.deliveredPerMinute(run, {
      since: new Date(now.getTime() - 3_600_000),
      recentSince: new Date(now.getTime() - 300_000),
    });
    expect(minutes.map((m) => [m.destination, m.count, m.recent])).toEqual([['webhook:acme', 3, 3]]);
    const workers = await store.seenWorkers(run, { since: new Date(now.getTime() - 3_600_000) });
    expect(workers).toEqual([{ workerId: 'w-1', source: 'lease', count: 2, lastSeen: expect.any(Date) }]);
    expect(await store.openByDestination(run)).toMatchObject([
      { destination: 'default', pending: 0, inFlight: 2 },
    ]);
  });
});
