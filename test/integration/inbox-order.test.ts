import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createInbox, type InboxMessage, migrateInbox } from '../../src/inbox/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase({ migrate: false, poolSize: 12 });
  await migrateInbox(t.pool, { schema: t.schema });
  await t.pool.query(`create table "${t.schema}".applied (n serial primary key, key text, version int)`);
});
afterAll(() => t.close());
beforeEach(async () => {
  await t.pool.query(
    `truncate "${t.schema}".inbox_messages, "${t.schema}".inbox_keys, "${t.schema}".applied`,
  );
});

async function appliedVersions(): Promise<number[]> {
  const { rows } = await t.pool.query<{ version: number }>(
    `select version from "${t.schema}".applied order by n`,
  );
  return rows.map((r) => r.version);
}

async function storedIds(): Promise<number> {
  const { rows } = await t.pool.query<{ n: number }>(
    `select count(*)::int as n from "${t.schema}".inbox_messages`,
  );
  return rows[0]!.n;
}

function apply(inbox: ReturnType<typeof createInbox>, message: InboxMessage & { version: number }) {
  return inbox.process(t.pool, message, async (client) => {
    await client.query(`insert into "${t.schema}".applied (key, version) values ($1, $2)`, [
      message.orderingKey,
      message.version,
    ]);
  });
}

describe('per-key order', () => {
  it('answers a message older than the last applied one of its key stale, without running the handler', async () => {
    const inbox = createInbox({ schema: t.schema });
    const five = { id: randomUUID(), orderingKey: 'k', sequence: 5, version: 5 };
    expect((await apply(inbox, five)).status).toBe('processed');
    expect(await apply(inbox, { id: randomUUID(), orderingKey: 'k', sequence: 3, version: 3 })).toEqual({
      status: 'stale',
      lastSequence: '5',
    });
    expect(await apply(inbox, five)).toEqual({ status: 'duplicate' });
    expect(
      (await apply(inbox, { id: randomUUID(), orderingKey: 'k', sequence: '9', version: 9 })).status,
    ).toBe('processed');
    // Another key has its own position.
    expect((await apply(inbox, { id: randomUUID(), orderingKey: 'j', sequence: 1, version: 1 })).status).toBe(
      'processed',
    );
    expect(await appliedVersions()).toEqual([5, 9, 1]);
    expect(inbox.counters()).toMatchObject({ processed: 3, stale: 1, duplicates: 1 });
  });

  it('refuses a message whose predecessor is not applied, recording nothing, and applies it after', async () => {
    const inbox = createInbox({ schema: t.schema, outOfOrderRetryMs: 2_000 });
    const v2 = { id: randomUUID(), orderingKey: 'k', sequence: 2, previousSequence: 1, version: 2 };
    expect(await apply(inbox, v2)).toEqual({
      status: 'out_of_order',
      lastSequence: '0',
      retryAfterMs: 2_000,
    });
    expect(await storedIds()).toBe(0);
    expect(
      (
        await apply(inbox, {
          id: randomUUID(),
          orderingKey: 'k',
          sequence: 1,
          previousSequence: 0,
          version: 1,
        })
      ).status,
    ).toBe('processed');
    expect((await apply(inbox, v2)).status).toBe('processed');
    expect(await appliedVersions()).toEqual([1, 2]);
  });

  it('applies 10 versions of a key in order when every copy is delivered concurrently and retried until taken', async () => {
    const inbox = createInbox({ schema: t.schema, outOfOrderRetryMs: 0 });
    const versions = Array.from({ length: 10 }, (_, i) => ({
      id: randomUUID(),
      orderingKey: 'k',
      sequence: i + 1,
      previousSequence: i,
      version: i + 1,
    }));
    // Newest first, two copies of each, all at once: what a consumer pool facing redeliveries sees.
    const deliver = async (m: (typeof versions)[number]) => {
      for (;;) {
        const outcome = await apply(inbox, m);
        if (outcome.status !== 'out_of_order') return outcome.status;
      }
    };
    const outcomes = await Promise.all([...versions, ...versions].reverse().map(deliver));
    expect(await appliedVersions()).toEqual(versions.map((v) => v.version));
    expect(outcomes.filter((o) => o === 'processed')).toHaveLength(10);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(10);
  });

  it('refuses a sequence that is not a positive integer', async () => {
    const inbox = createInbox({ schema: t.schema });
    await expect(
      apply(inbox, { id: randomUUID(), orderingKey: 'k', sequence: '1.5', version: 1 }),
    ).rejects.toMatchObject({ code: 'OUTBOX_VALIDATION', field: 'message.sequence' });
    await expect(
      apply(inbox, { id: randomUUID(), orderingKey: 'k', sequence: 0, version: 0 }),
    ).rejects.toMatchObject({ field: 'message.sequence' });
  });
});
