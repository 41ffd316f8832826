import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createInbox, InboxTransactionError, inboxStats, migrateInbox } from '../../src/inbox/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/recording-publisher.js';

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase({ migrate: false, poolSize: 12 });
  await migrateInbox(t.db, { schema: t.schema });
  await t.pool.query(`create table "${t.schema}".balances (account text primary key, balance int not null)`);
});
afterAll(() => t.close());
beforeEach(async () => {
  await t.pool.query(`truncate "${t.schema}".inbox_messages, "${t.schema}".inbox_keys`);
  await t.pool.query(`delete from "${t.schema}".balances`);
  await t.pool.query(`insert into "${t.schema}".balances values ('a', 0)`);
});

async function balance(): Promise<number> {
  const { rows } = await t.pool.query<{ balance: number }>(
    `select balance from "${t.schema}".balances where account = 'a'`,
  );
  return rows[0]!.balance;
}

/** Sessions of this test blocked on a lock while inserting into the inbox. */
async function copiesWaiting(): Promise<number> {
  const { rows } = await t.pool.query<{ n: number }>(
    `select count(*)::int as n from pg_stat_activity
      where wait_event_type = 'Lock' and query like $1`,
    [`%"${t.schema}".inbox_messages%`],
  );
  return rows[0]!.n;
}

async function storedIds(): Promise<string[]> {
  const { rows } = await t.pool.query<{ message_id: string }>(
    `select message_id from "${t.schema}".inbox_messages order by message_id`,
  );
  return rows.map((r) => r.message_id);
}

describe('exactly-once effect', () => {
  it('applies the effect once when 8 copies of a message arrive while the first is in progress (kysely)', async () => {
    const inbox = createInbox({ schema: t.schema });
    const id = randomUUID();
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () =>
        inbox.process(t.db, { id, type: 'credit' }, async (trx) => {
          // Hold the first copy's transaction open until the other 7 are waiting on its row.
          await waitFor(async () => (await copiesWaiting()) === 7, '7 copies blocked on the inbox row');
          await sql`update ${sql.table(`${t.schema}.balances`)} set balance = balance + 1 where account = 'a'`.execute(
            trx,
          );
          return 'applied';
        }),
      ),
    );
    expect(await balance()).toBe(1);
    expect(outcomes.filter((o) => o.status === 'processed')).toEqual([
      { status: 'processed', result: 'applied' },
    ]);
    expect(outcomes.filter((o) => o.status === 'duplicate')).toHaveLength(7);
    expect(inbox.counters()).toMatchObject({ received: 8, processed: 1, duplicates: 7, failed: 0 });
    expect(await storedIds()).toEqual([id]);
  });

  it('applies the effect once when 8 copies arrive at the same time (pg Pool)', async () => {
    const inbox = createInbox({ schema: t.schema });
    const id = randomUUID();
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () =>
        inbox.process(t.pool, { id }, async (client) => {
          await client.query(`update "${t.schema}".balances set balance = balance + 1 where account = 'a'`);
        }),
      ),
    );
    expect(await balance()).toBe(1);
    expect(outcomes.map((o) => o.status).sort()).toEqual([
      'duplicate',
      ...Array(6).fill('duplicate'),
      'processed',
    ]);
  });

  it('rolls back the effect and the inbox row when the handler throws, and applies a later copy', async () => {
    const inbox = createInbox({ schema: t.schema });
    const id = randomUUID();
    const credit = (fail: boolean) =>
      inbox.process(t.pool, { id }, async (client) => {
        await client.query(`update "${t.schema}".balances set balance = balance + 1 where account = 'a'`);
        if (fail) throw new Error('downstream said no');
      });
    await expect(credit(true)).rejects.toThrow('downstream said no');
    expect(await balance()).toBe(0);
    expect(await storedIds()).toEqual([]);
    expect(await credit(false)).toEqual({ status: 'processed', result: undefined });
    expect(await credit(false)).toEqual({ status: 'duplicate' });
    expect(await balance()).toBe(1);
    expect(inbox.counters()).toMatchObject({ received: 3, processed: 1, duplicates: 1, failed: 1 });
  });

  it("receive runs in the caller's transaction: the caller's rollback forgets the id too", async () => {
    const inbox = createInbox({ schema: t.schema });
    const id = randomUUID();
    const client = await t.pool.connect();
    try {
      await client.query('begin');
      const outcome = await inbox.receive(client, { id }, async (c) => {
        await c.query(`update "${t.schema}".balances set balance = balance + 1 where account = 'a'`);
      });
      expect(outcome.status).toBe('processed');
      await client.query('rollback');
    } finally {
      client.release();
    }
    expect(await storedIds()).toEqual([]);
    expect(await balance()).toBe(0);
    await t.db.transaction().execute((trx) => inbox.receive(trx, { id }, () => undefined));
    expect(await storedIds()).toEqual([id]);
  });

  it('refuses to receive outside a transaction, where the row and the effect would commit apart', async () => {
    const inbox = createInbox({ schema: t.schema });
    await expect(inbox.receive(t.pool, { id: randomUUID() }, () => undefined)).rejects.toBeInstanceOf(
      InboxTransactionError,
    );
    await expect(inbox.receive(t.db, { id: randomUUID() }, () => undefined)).rejects.toMatchObject({
      code: 'INBOX_NOT_IN_TRANSACTION',
    });
    expect(await storedIds()).toEqual([]);
  });

  it('refuses an empty id and a schema name that is not a plain identifier', async () => {
    const inbox = createInbox({ schema: t.schema });
    await expect(inbox.process(t.pool, { id: '' }, () => undefined)).rejects.toMatchObject({
      code: 'OUTBOX_VALIDATION',
      field: 'message.id',
    });
    expect(() => createInbox({ schema: 'x"; drop table y' })).toThrow(/lower-case SQL identifier/);
  });

  it('reports counters and the ids the table holds', async () => {
    const inbox = createInbox({ schema: t.schema });
    const id = randomUUID();
    await inbox.process(t.db, { id }, () => undefined);
    await inbox.process(t.db, { id }, () => undefined);
    await inbox.process(t.db, { id: randomUUID() }, () => undefined);
    const stats = await inbox.stats(t.pool);
    expect(stats).toMatchObject({ received: 3, processed: 2, duplicates: 1, stored: 2 });
    expect(stats.oldestReceivedAt).toBeInstanceOf(Date);
    // Another instance (another process) counted nothing, but sees the same table.
    expect(await inboxStats(t.db, { schema: t.schema })).toEqual({
      stored: 2,
      oldestReceivedAt: stats.oldestReceivedAt,
    });
  });
});
