import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PermanentPublishError, TransientPublishError } from '../../src/core/foundation/errors.js';
import { NOOP_LOGGER } from '../../src/core/foundation/logger.js';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { sqlRunner } from '../../src/core/foundation/queryable.js';
import { createRelay, type RelayOptions } from '../../src/core/relay/relay.js';
import { OutboxStore } from '../../src/core/store/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { RecordingPublisher, waitFor } from '../support/recording-publisher.js';

let t: TestDatabase;
let store: OutboxStore;
beforeAll(async () => {
  t = await createTestDatabase({ poolSize: 8 });
  store = new OutboxStore(t.schema);
});
afterAll(() => t.close());
beforeEach(async () => {
  await t.pool.query(`truncate "${t.schema}".messages, "${t.schema}".messages_archive`);
});

const outbox = () => createOutbox({ schema: t.schema });
const relayFor = (publishers: RelayOptions['publishers'], extra: Partial<RelayOptions> = {}) =>
  createRelay({ db: t.db, schema: t.schema, publishers, logger: NOOP_LOGGER, pollIntervalMs: 5, ...extra });

async function count(where: string, table = 'messages'): Promise<number> {
  const { rows } = await t.pool.query(`select count(*)::int as n from "${t.schema}".${table} where ${where}`);
  return rows[0].n;
}

describe('parking', () => {
  it('parks the followers of a blocked head and drains the other keys past them', async () => {
    await outbox().addMany(
      t.db,
      Array.from({ length: 501 }, (_, i) => ({ type: 'blocked', payload: i, orderingKey: 'router-off' })),
    );
    await outbox().addMany(
      t.db,
      Array.from({ length: 50 }, (_, i) => ({ type: 'ok', payload: i, orderingKey: `k${i % 5}` })),
    );
    const pub = new RecordingPublisher('p', (m) => {
      if (m.type === 'blocked')
        throw new TransientPublishError('router offline', { retryAfterMs: 3_600_000 });
    });
    const relay = relayFor({ default: pub });
    relay.start();
    try {
      await waitFor(async () => (await count(`type = 'ok'`, 'messages_archive')) === 50, 'the other keys');
      // Parking runs after a claim that came back short; on a loaded box the 50 can all be
      // delivered before the first such pass, so the relay keeps running until it has parked.
      await waitFor(
        async () => (await count(`ordering_key = 'router-off' and parked`)) >= 500,
        'the parking',
      );
    } finally {
      await relay.stop();
    }
    expect(await count(`ordering_key = 'router-off' and parked`)).toBe(500);
    // The head is not parked: it is due again after its backoff.
    expect(await count(`ordering_key = 'router-off' and not parked`)).toBe(1);
    expect(pub.calls.filter((c) => c.message.type === 'blocked')).toHaveLength(1);
    // Per key, in id order.
    for (let k = 0; k < 5; k++) {
      const payloads = pub.calls
        .filter((c) => c.message.orderingKey === `k${k}`)
        .map((c) => c.message.payload);
      expect(payloads).toEqual([...payloads].sort((a, b) => Number(a) - Number(b)));
    }
  });

  it('a delivered head frees its successor, and a key drains in order after failing a while', async () => {
    await outbox().addMany(
      t.db,
      Array.from({ length: 30 }, (_, i) => ({ type: 'cmd', payload: i, orderingKey: 'tower-1' })),
    );
    let failures = 3;
    const pub = new RecordingPublisher('p', () => {
      if (failures-- > 0) throw new TransientPublishError('router rebooting', { retryAfterMs: 30 });
    });
    const relay = relayFor({ default: pub });
    relay.start();
    try {
      await waitFor(async () => (await count('true', 'messages_archive')) === 30, 'all 30 delivered');
    } finally {
      await relay.stop();
    }
    const delivered = pub.calls.slice(3).map((c) => c.message.payload);
    expect(delivered).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(await count('true')).toBe(0);
  });

  it('a dead head frees its successor', async () => {
    await outbox().addMany(
      t.db,
      Array.from({ length: 10 }, (_, i) => ({
        type: i === 0 ? 'poison' : 'cmd',
        payload: i,
        orderingKey: 'k',
      })),
    );
    const pub = new RecordingPublisher('p', async (m) => {
      if (m.type === 'poison') {
        // Long enough for the relay's park pass to park the nine followers behind it.
        await new Promise((r) => setTimeout(r, 300));
        throw new PermanentPublishError('rejected');
      }
    });
    const relay = relayFor({ default: pub });
    relay.start();
    try {
      await waitFor(async () => (await count('true', 'messages_archive')) === 9, 'the nine followers');
    } finally {
      await relay.stop();
    }
    expect(pub.calls.map((c) => c.message.payload)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await count('dead_at is not null')).toBe(1);
  });

  it('frees a parked row left as its key head (a write-back by a relay older than v2)', async () => {
    await outbox().addMany(t.db, [
      { type: 'a', payload: 1, orderingKey: 'k' },
      { type: 'b', payload: 2, orderingKey: 'k' },
    ]);
    // An old relay marks the head delivered in place and frees nobody; the follower was parked.
    await t.pool.query(
      `update "${t.schema}".messages set status = 'delivered', delivered_at = now() where type = 'a'`,
    );
    await t.pool.query(`update "${t.schema}".messages set parked = true where type = 'b'`);
    const pub = new RecordingPublisher('p');
    const relay = relayFor({ default: pub });
    relay.start();
    try {
      await waitFor(() => pub.calls.length === 1, 'the stranded row delivered');
    } finally {
      await relay.stop();
    }
    expect(pub.calls[0]!.message.type).toBe('b');
  });
});

describe('the claim', () => {
  it('is a HOT update for every claimed row: it writes no index entry', async () => {
    await outbox().addMany(
      t.db,
      Array.from({ length: 200 }, (_, i) => ({
        type: 'x',
        payload: i,
        orderingKey: i % 2 ? `k${i}` : undefined,
      })),
    );
    const client = await t.pool.connect();
    // The backend's counters of this transaction, plus whatever earlier ones on this connection
    // have not flushed yet (PostgreSQL 15+): compare before and after.
    const counters = async () =>
      (
        await client.query(
          `select pg_stat_get_xact_tuples_updated(c.oid)::int as updated,
                  pg_stat_get_xact_tuples_hot_updated(c.oid)::int as hot
             from pg_class c where c.oid = to_regclass($1)`,
          [`"${t.schema}".messages`],
        )
      ).rows[0];
    try {
      await client.query('begin');
      const before = await counters();
      const rows = await store.claim(sqlRunner(client), { leaseMs: 60_000, limit: 200, workerId: 'w' });
      const after = await counters();
      await client.query('rollback');
      expect(rows).toHaveLength(200);
      expect({ updated: after.updated - before.updated, hot: after.hot - before.hot }).toEqual({
        updated: 200,
        hot: 200,
      });
    } finally {
      client.release();
    }
  });

  it('no index of the hot table names a column the claim writes', async () => {
    const { rows } = await t.pool.query(
      `select indexname, indexdef from pg_indexes where schemaname = $1 and tablename = 'messages'`,
      [t.schema],
    );
    for (const r of rows) expect(r.indexdef).not.toMatch(/\b(status|attempts|locked_by|locked_until)\b/);
    expect(rows.map((r) => r.indexname).sort()).toContain('messages_claim_idx');
  });
});

describe('idempotency across the move to the archive', () => {
  it('adding a delivered message_id again is a no-op while the message is retained', async () => {
    const messageId = '0193a000-0000-7000-8000-0000000000aa';
    await outbox().add(t.db, { type: 'x', payload: 1, messageId });
    const relay = relayFor({ default: new RecordingPublisher('p') });
    await relay.runOnce();
    expect(await count('true', 'messages_archive')).toBe(1);
    await outbox().add(t.db, { type: 'x', payload: 2, messageId });
    await outbox().addMany(t.db, [{ type: 'x', payload: 3, messageId }]);
    expect(await count('true')).toBe(0);
  });

  for (const isolation of ['read committed', 'repeatable read'] as const) {
    it(`leaves one row when the move commits while the re-add waits on it (${isolation})`, async () => {
      for (let round = 0; round < 10; round++) {
        const messageId = `0193a000-0000-7000-8000-${String(round).padStart(12, '0')}`;
        await outbox().add(t.db, { type: 'x', payload: round, messageId });
        const [claimed] = await store.claim(sqlRunner(t.pool), { leaseMs: 60_000, limit: 1, workerId: 'w' });
        const mover = await t.pool.connect();
        const adder = await t.pool.connect();
        try {
          await adder.query(`begin isolation level ${isolation}`);
          await adder.query('select 1'); // the snapshot predates the move
          await mover.query('begin');
          await store.markDelivered(sqlRunner(mover), { ids: [claimed!.id], results: [null] });
          const adding = outbox().add(adder, { type: 'x', payload: -1, messageId });
          await waitFor(async () => {
            const { rows } = await t.pool.query(
              `select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and pid <> pg_backend_pid()`,
            );
            return rows[0].n > 0;
          }, 'the re-add waiting on the moved row');
          await mover.query('commit');
          await adding;
          await adder.query('commit');
        } finally {
          mover.release();
          adder.release();
        }
        const { rows } = await t.pool.query(
          `select count(*)::int as n from "${t.schema}".all_messages where message_id = $1`,
          [messageId],
        );
        expect(rows[0].n, `round ${round}`).toBe(1);
      }
    });
  }
});
