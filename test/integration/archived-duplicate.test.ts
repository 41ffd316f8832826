import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOOP_LOGGER } from '../../src/core/foundation/logger.js';
import { PermanentPublishError, TransientPublishError } from '../../src/core/foundation/errors.js';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { createRelay } from '../../src/core/relay/relay.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { RecordingPublisher } from '../support/recording-publisher.js';

// A hot row whose message_id is already in the archive: what a producer older than storage v2
// leaves when it re-adds a delivered caller-chosen id (its insert looks only at `messages`).
let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.close());

/** Delivers `messageId` (archived), then inserts it again the way an old producer does, with a keyed follower. */
async function archivedTwin(key: string): Promise<{ messageId: string; followerId: string }> {
  const messageId = randomUUID();
  const followerId = randomUUID();
  const publisher = new RecordingPublisher();
  const outbox = createOutbox({ schema: t.schema });
  await outbox.add(t.db, { messageId, type: 'first', payload: {} });
  const relay = createRelay({
    db: t.db,
    schema: t.schema,
    publishers: { default: publisher },
    logger: NOOP_LOGGER,
  });
  await relay.runOnce();
  await relay.stop();
  await t.pool.query(
    `insert into "${t.schema}".messages (message_id, type, destination, ordering_key, payload)
     values ($1, 'again', 'default', $2, '{}'), ($3, 'follower', 'default', $2, '{}')`,
    [messageId, key, followerId],
  );
  return { messageId, followerId };
}

async function rowsOf(messageId: string): Promise<{ hot: number; archived: number }> {
  const { rows } = await t.pool.query<{ hot: number; archived: number }>(
    `select (select count(*)::int from "${t.schema}".messages where message_id = $1) as hot,
            (select count(*)::int from "${t.schema}".messages_archive where message_id = $1) as archived`,
    [messageId],
  );
  return rows[0]!;
}

describe('a message id already in the archive', () => {
  for (const outcome of ['delivered', 'failed', 'dead'] as const) {
    it(`is sent at most once more and then removed as a duplicate (publish ${outcome})`, async () => {
      const { messageId, followerId } = await archivedTwin(`dup-${outcome}`);
      const publisher = new RecordingPublisher('recording', (m) => {
        if (m.messageId !== messageId) return undefined;
        if (outcome === 'failed') throw new TransientPublishError('try later');
        if (outcome === 'dead') throw new PermanentPublishError('never');
        return undefined;
      });
      const relay = createRelay({
        db: t.db,
        schema: t.schema,
        publishers: { default: publisher },
        logger: NOOP_LOGGER,
        retry: { baseDelayMs: 1, maxDelayMs: 1 },
      });
      const duplicates: string[] = [];
      relay.on('duplicate', (m) => duplicates.push(m.messageId));
      for (let round = 0; round < 4; round++) await relay.runOnce();
      await relay.stop();

      expect(publisher.countsByMessageId().get(messageId)).toBe(1);
      expect(await rowsOf(messageId)).toEqual({ hot: 0, archived: 1 });
      expect(duplicates).toEqual([messageId]);
      expect(relay.counters()).toMatchObject({ duplicates: 1, errors: 0 });
      // Its key's follower is free: the duplicate no longer blocks it.
      expect(publisher.countsByMessageId().get(followerId)).toBe(1);
      expect(await rowsOf(followerId)).toEqual({ hot: 0, archived: 1 });
    });
  }
});
