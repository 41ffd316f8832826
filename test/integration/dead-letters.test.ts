import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cleanupDelivered } from '../../src/core/maintenance/cleanup-delivered.js';
import { getMessage, listDead, purgeDead, replayDead } from '../../src/core/maintenance/dead-letters.js';
import { OutboxValidationError, PermanentPublishError } from '../../src/core/foundation/errors.js';
import { NOOP_LOGGER } from '../../src/core/foundation/logger.js';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { getStats } from '../../src/core/maintenance/outbox-stats.js';
import { createRelay } from '../../src/core/relay/relay.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { RecordingPublisher } from '../support/recording-publisher.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.close());
beforeEach(async () => {
  await t.pool.query(`truncate "${t.schema}".messages, "${t.schema}".messages_archive`);
});

async function makeDead(n: number, extra: { type?: string; tenantId?: string } = {}) {
  const outbox = createOutbox({ schema: t.schema });
  await outbox.addMany(
    t.db,
    Array.from({ length: n }, (_, i) => ({ type: extra.type ?? 'd', payload: i, tenantId: extra.tenantId })),
  );
  const relay = createRelay({
    db: t.db,
    schema: t.schema,
    logger: NOOP_LOGGER,
    batchSize: 1000,
    publishers: {
      default: new RecordingPublisher('p', () => {
        throw new PermanentPublishError('nope');
      }),
    },
  });
  await relay.runOnce();
}

describe('dead letters', () => {
  it('lists, shows, replays by filter and purges dead messages', async () => {
    await makeDead(3, { type: 'a', tenantId: 't1' });
    await makeDead(2, { type: 'b', tenantId: 't2' });
    const all = await listDead(t.db, {}, { schema: t.schema });
    expect(all.map((m) => m.type)).toEqual(['a', 'a', 'a', 'b', 'b']);
    expect(all[0]).toMatchObject({
      status: 'dead',
      lastError: 'PermanentPublishError[PUBLISH_PERMANENT]: nope',
    });
    expect((await listDead(t.db, { tenantId: 't2' }, { schema: t.schema })).map((m) => m.type)).toEqual([
      'b',
      'b',
    ]);
    const page2 = await listDead(t.db, {}, { schema: t.schema, limit: 2, afterId: all[1]!.id });
    expect(page2.map((m) => m.id)).toEqual([all[2]!.id, all[3]!.id]);
    expect((await getMessage(t.db, all[0]!.messageId, { schema: t.schema }))?.id).toBe(all[0]!.id);
    expect((await getMessage(t.db, all[0]!.id, { schema: t.schema }))?.messageId).toBe(all[0]!.messageId);

    expect(await replayDead(t.db, { ids: [all[0]!.id] }, { schema: t.schema })).toEqual({ replayed: 1 });
    expect(await replayDead(t.db, { type: 'b' }, { schema: t.schema })).toEqual({ replayed: 2 });
    const pub = new RecordingPublisher();
    const relay = createRelay({
      db: t.db,
      schema: t.schema,
      publishers: { default: pub },
      logger: NOOP_LOGGER,
    });
    expect(await relay.runOnce()).toMatchObject({ claimed: 3, delivered: 3 });
    expect(pub.calls.every((c) => c.attempt === 1)).toBe(true);

    expect(await purgeDead(t.db, { all: true }, { schema: t.schema })).toEqual({ purged: 2 });
    expect(await listDead(t.db, {}, { schema: t.schema })).toEqual([]);
  });

  it('refuses to replay or purge with no filter unless told all', async () => {
    await expect(replayDead(t.db, {}, { schema: t.schema })).rejects.toBeInstanceOf(OutboxValidationError);
    await expect(purgeDead(t.db, { ids: [] }, { schema: t.schema })).rejects.toThrow(/filter/);
  });
});

describe('cleanupDelivered', () => {
  it('deletes only delivered rows older than the cutoff, in bounded batches', async () => {
    const outbox = createOutbox({ schema: t.schema });
    await outbox.addMany(
      t.db,
      Array.from({ length: 1200 }, (_, i) => ({ type: 'c', payload: i })),
    );
    await t.pool.query(
      `update "${t.schema}".messages set status = 'delivered', delivered_at = now() - interval '40 days' where id % 3 = 0`,
    );
    await t.pool.query(
      `update "${t.schema}".messages set status = 'delivered', delivered_at = now() - interval '10 days' where id % 3 = 1`,
    );
    await t.pool.query(
      `update "${t.schema}".messages set status = 'dead', dead_at = now() - interval '90 days' where id % 3 = 2`,
    );
    const result = await cleanupDelivered(t.db, { olderThanDays: 30, batchSize: 150, schema: t.schema });
    expect(result.deleted).toBe(400);
    // The 800 rows delivered in place (an older relay's write-back) move to the archive first in
    // 6 statements (5 x 150 + 50), then 150 + 150 + 100 are deleted, then one statement finds
    // no attempt-log row older than the cutoff.
    expect(result.batches).toBe(10);
    expect(result.attemptsDeleted).toBe(0);
    const stats = await getStats(t.db, { schema: t.schema, exact: true });
    expect(stats.byStatus).toEqual({ pending: 0, in_flight: 0, delivered: 400, dead: 400 });
    expect(stats.deliveredIsEstimate).toBe(false);
    // Without `exact`, delivered comes from the planner's estimate: right once ANALYZE has run.
    await t.pool.query(`analyze "${t.schema}".messages_archive`);
    const fast = await getStats(t.db, { schema: t.schema });
    expect(fast).toMatchObject({ deliveredIsEstimate: true, byStatus: { delivered: 400, dead: 400 } });
  });
});
