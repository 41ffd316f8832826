import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboxValidationError } from '../../src/core/foundation/errors.js';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
  await t.pool.query(`create table "${t.schema}".orders (id int primary key, total int)`);
});
afterAll(() => t.close());

type Events = { 'order.placed': { orderId: number; total: number } };

async function rows() {
  const { rows } = await t.pool.query(`select * from "${t.schema}".messages order by id`);
  return rows;
}

async function clear() {
  await t.pool.query(`truncate "${t.schema}".messages, "${t.schema}".messages_archive, "${t.schema}".orders`);
}

describe('outbox.add', () => {
  it('commits with the business rows of a kysely transaction and rolls back with them', async () => {
    await clear();
    const outbox = createOutbox<Events>({ schema: t.schema });
    await t.db.transaction().execute(async (trx) => {
      await sql`insert into ${sql.table(`${t.schema}.orders`)} values (1, 10)`.execute(trx);
      await outbox.add(trx, { type: 'order.placed', payload: { orderId: 1, total: 10 } });
    });
    await expect(
      t.db.transaction().execute(async (trx) => {
        await sql`insert into ${sql.table(`${t.schema}.orders`)} values (2, 20)`.execute(trx);
        await outbox.add(trx, { type: 'order.placed', payload: { orderId: 2, total: 20 } });
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    const messages = await rows();
    expect(messages.map((m) => m.payload)).toEqual([{ orderId: 1, total: 10 }]);
    expect(messages[0]).toMatchObject({
      kind: 'event',
      type: 'order.placed',
      destination: 'default',
      status: 'pending',
      attempts: 0,
    });
  });

  it('works with a plain pg client inside its transaction', async () => {
    await clear();
    const outbox = createOutbox({ schema: t.schema });
    const client = await t.pool.connect();
    try {
      await client.query('begin');
      await outbox.add(client, { type: 'a', payload: 1, tenantId: 'wisp-1', headers: { 'x-trace': 'abc' } });
      await client.query('rollback');
      await client.query('begin');
      const id = await outbox.add(client, {
        type: 'b',
        payload: [true],
        orderingKey: 'k1',
        destination: 'console',
      });
      await client.query('commit');
      const messages = await rows();
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatchObject({
        message_id: id,
        type: 'b',
        ordering_key: 'k1',
        destination: 'console',
      });
    } finally {
      client.release();
    }
  });

  it('adds the same message_id twice as one row', async () => {
    await clear();
    const outbox = createOutbox({ schema: t.schema });
    const messageId = '0193a000-0000-7000-8000-000000000001';
    await outbox.add(t.db, { type: 'x', payload: 1, messageId });
    await outbox.add(t.db, { type: 'x', payload: 2, messageId });
    await outbox.addMany(t.db, [
      { type: 'x', payload: 3, messageId },
      { type: 'y', payload: 4 },
      { type: 'y', payload: 5, messageId: '0193a000-0000-7000-8000-000000000002' },
      { type: 'y', payload: 6, messageId: '0193a000-0000-7000-8000-000000000002' },
    ]);
    const messages = await rows();
    expect(messages.map((m) => m.payload)).toEqual([1, 4, 5]);
  });

  it('addMany inserts every message in order with one statement', async () => {
    await clear();
    const outbox = createOutbox({ schema: t.schema });
    const later = new Date(Date.now() + 3600_000);
    const ids = await outbox.addMany(
      t.db,
      Array.from({ length: 500 }, (_, i) => ({
        type: 't',
        payload: { i },
        availableAt: i === 0 ? later : undefined,
      })),
    );
    const messages = await rows();
    expect(messages.map((m) => m.message_id)).toEqual(ids);
    expect(messages[0].available_at.getTime()).toBe(later.getTime());
    expect(messages[1].available_at.getTime()).toBeLessThan(later.getTime());
  });

  it('addCommand writes an ordered device command routed by device', async () => {
    await clear();
    const outbox = createOutbox({ schema: t.schema });
    await outbox.addCommand(t.db, {
      device: 'tower-3',
      action: 'pppoe.create',
      params: { name: 'c1' },
      tenantId: 'wisp',
    });
    expect((await rows())[0]).toMatchObject({
      kind: 'command',
      type: 'pppoe.create',
      destination: 'routeros:tower-3',
      ordering_key: 'tower-3',
      tenant_id: 'wisp',
      payload: { name: 'c1' },
    });
  });

  it('refuses bad input with an OutboxValidationError naming the field, writing nothing', async () => {
    await clear();
    const outbox = createOutbox({ schema: t.schema, maxPayloadBytes: 1000 });
    const cyclic: Record<string, unknown> = {};
    cyclic.me = cyclic;
    const cases: Array<[unknown, string]> = [
      [{ type: 'x', payload: { n: 10n } }, 'payload'],
      [{ type: 'x', payload: cyclic }, 'payload'],
      [{ type: 'x', payload: 'a'.repeat(2000) }, 'payload'],
      [{ type: '', payload: 1 }, 'type'],
      [{ type: 'x', payload: 1, messageId: 'not-a-uuid' }, 'messageId'],
      [{ type: 'x', payload: 1, maxAttempts: 0 }, 'maxAttempts'],
      [{ type: 'x', payload: 1, headers: { a: 1 } }, 'headers.a'],
      [{ type: 'x', payload: 'nul \u0000' }, 'payload'],
    ];
    for (const [message, field] of cases) {
      const error = await outbox.add(t.db, message as never).catch((e: unknown) => e);
      expect(error, field).toBeInstanceOf(OutboxValidationError);
      expect((error as OutboxValidationError).field).toBe(field);
    }
    // One bad message in a batch: the whole batch is refused before any SQL.
    const batchError = await outbox
      .addMany(t.db, [
        { type: 'ok', payload: 1 },
        // @ts-expect-error the compiler refuses a bigint too; this checks the run-time guard
        { type: 'x', payload: { n: 1n } },
      ])
      .catch((e: unknown) => e);
    expect((batchError as OutboxValidationError).field).toBe('messages[1].payload');
    expect(await rows()).toEqual([]);
    expect(() => createOutbox({ schema: 'x; drop table y' })).toThrow(OutboxValidationError);
  });
});
