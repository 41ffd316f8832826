import { afterAll, beforeAll, expect, it } from 'vitest';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { createRelay } from '../../src/core/relay/relay.js';
import { NOOP_LOGGER } from '../../src/core/foundation/logger.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { RecordingPublisher } from '../support/recording-publisher.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.close());

it('delivers a committed message once', async () => {
  const outbox = createOutbox({ schema: t.schema });
  const id = await t.db.transaction().execute((trx) => outbox.add(trx, { type: 'a.b', payload: { x: 1 } }));
  const pub = new RecordingPublisher();
  const relay = createRelay({
    db: t.db,
    schema: t.schema,
    publishers: { default: pub },
    logger: NOOP_LOGGER,
  });
  const r = await relay.runOnce();
  expect(r).toEqual({ claimed: 1, delivered: 1, retried: 0, dead: 0 });
  expect(pub.calls[0]?.message.messageId).toBe(id);
  expect(pub.calls[0]?.message.payload).toEqual({ x: 1 });
  const { rows } = await t.pool.query(`select status from "${t.schema}".all_messages`);
  expect(rows).toEqual([{ status: 'delivered' }]);
});
