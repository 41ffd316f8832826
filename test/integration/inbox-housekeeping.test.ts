import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSql } from '../../src/core/foundation/queryable.js';
import { sqlRunner } from '../../src/core/foundation/queryable.js';
import { createInbox, INBOX_RETENTION_DAYS, migrateInbox, pruneInbox } from '../../src/inbox/index.js';
import { InboxStore } from '../../src/inbox/inbox-store.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { ManualClock } from '../support/recording-publisher.js';

let t: TestDatabase;
const DAY_MS = 86_400_000;
const NOW = new Date('2030-06-15T12:00:00Z');

beforeAll(async () => {
  t = await createTestDatabase({ migrate: false, poolSize: 8 });
});
afterAll(() => t.close());

async function freshSchema(): Promise<string> {
  const schema = `${t.schema}_${randomBytes(3).toString('hex')}`;
  return schema;
}

describe('migrateInbox', () => {
  it('applies its migrations once, from 4 processes at once, on its own version table', async () => {
    const schema = await freshSchema();
    // Separate pools: separate sessions, like separate processes starting together.
    const pools = Array.from({ length: 4 }, () => new pg.Pool({ connectionString: t.url, max: 1 }));
    try {
      const results = await Promise.all(pools.map((pool) => migrateInbox(pool, { schema })));
      expect(results.filter((r) => r.applied.length > 0)).toEqual([{ applied: [1], version: 1 }]);
      expect(results.every((r) => r.version === 1)).toBe(true);
      expect(await migrateInbox(t.db, { schema })).toEqual({ applied: [], version: 1 });
      const { rows } = await t.pool.query<{ inbox: string | null; outbox: string | null }>(
        'select to_regclass($1)::text as inbox, to_regclass($2)::text as outbox',
        [`"${schema}".inbox_migrations`, `"${schema}".migrations`],
      );
      // The outbox's own track stays untouched: a receive-only service has no outbox tables.
      expect(rows[0]).toEqual({ inbox: `${schema}.inbox_migrations`, outbox: null });
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
      await t.pool.query(`drop schema if exists "${schema}" cascade`);
    }
  });

  it('refuses a schema name that is not a plain identifier, before touching the database', async () => {
    await expect(migrateInbox(t.pool, { schema: 'Bad-Name' })).rejects.toMatchObject({
      code: 'OUTBOX_VALIDATION',
    });
  });
});

describe('pruneInbox', () => {
  it('deletes ids older than the retention in batches, keeps newer ones and their deduplication', async () => {
    await migrateInbox(t.db, { schema: t.schema });
    // 20 days of ids, 1000 per day, the newest received at NOW.
    await t.pool.query(
      `insert into "${t.schema}".inbox_messages (message_id, received_at)
       select 'm' || i, $1::timestamptz - (i * interval '86.4 seconds') from generate_series(0, 19999) as i`,
      [NOW],
    );
    const clock = new ManualClock(NOW.getTime());
    const older = await t.pool.query<{ n: number }>(
      `select count(*)::int as n from "${t.schema}".inbox_messages where received_at < $1`,
      [new Date(NOW.getTime() - INBOX_RETENTION_DAYS * DAY_MS)],
    );
    expect(older.rows[0]!.n).toBeGreaterThan(10_000);

    const result = await pruneInbox(t.pool, { schema: t.schema, clock, batchSize: 1000 });

    expect(result.deleted).toBe(older.rows[0]!.n);
    expect(result.batches).toBe(Math.floor(older.rows[0]!.n / 1000) + 1);
    const left = await t.pool.query<{ n: number; oldest: Date }>(
      `select count(*)::int as n, min(received_at) as oldest from "${t.schema}".inbox_messages`,
    );
    expect(left.rows[0]!.n).toBe(20_000 - older.rows[0]!.n);
    expect(left.rows[0]!.oldest.getTime()).toBeGreaterThanOrEqual(
      NOW.getTime() - INBOX_RETENTION_DAYS * DAY_MS,
    );
    // A kept id still deduplicates.
    const inbox = createInbox({ schema: t.schema, clock });
    expect(await inbox.process(t.pool, { id: 'm0' }, () => undefined)).toEqual({ status: 'duplicate' });
    expect(await pruneInbox(t.pool, { schema: t.schema, clock })).toEqual({ deleted: 0, batches: 1 });
  });

  it('finds each batch through the received_at index, never a sequential scan', async () => {
    await t.pool.query(`analyze "${t.schema}".inbox_messages`);
    const run = sqlRunner(t.pool);
    let plan = '';
    // The store's own statement, planned (EXPLAIN without ANALYZE runs nothing).
    const explain: RunSql = async <Row>(text: string, values?: readonly unknown[]) => {
      const rows = await run<{ 'QUERY PLAN': string }>(`explain ${text}`, values);
      plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      return [] as Row[];
    };
    await new InboxStore(`"${t.schema}"`).pruneBatch(explain, new Date(NOW.getTime() - DAY_MS), 1000);
    expect(plan).toContain('inbox_messages_received_at_idx');
    expect(plan).toContain('Tid Scan');
    expect(plan, plan).not.toMatch(/Seq Scan/);
  });

  it('refuses a negative age', async () => {
    await expect(pruneInbox(t.pool, { schema: t.schema, olderThanDays: -1 })).rejects.toMatchObject({
      code: 'OUTBOX_VALIDATION',
      field: 'olderThanDays',
    });
  });
});
