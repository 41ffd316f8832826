/**
 * Migrating from BullMQ queues and a separate worker (seed 001): `queue.add('sync', data)` after
 * the commit could lose the job (Redis down) or run it for a rolled-back change. The API now
 * writes the job into the outbox inside its transaction, and the worker's processor becomes a
 * Publisher the relay calls: same retries, no Redis. The BullMQ queue name becomes the
 * destination (`pms-sync`, `case-actions`), the job name the message type.
 * Guide: docs/migrating/001-bullmq.md.
 *
 * Run the relay: DATABASE_URL=postgres://... npx tsx examples/migrating/001-bullmq.ts
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import {
  createOutbox,
  createRelay,
  type OutboxMessage,
  PermanentPublishError,
  type Publisher,
  type PublishContext,
} from '../../src/index.js';

const db = new Kysely<any>({
  dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: process.env.DATABASE_URL }) }),
});
const outbox = createOutbox({ schema: 'outbox' });

/** Was `addPmsSyncJob(connectionId, tenantId)` = `pmsSyncQueue.add('sync', { connectionId })`. */
export async function addPmsSyncJob(connectionId: string, tenantId: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await outbox.add(trx, {
      type: 'sync',
      destination: 'pms-sync',
      tenantId,
      orderingKey: connectionId, // one sync per connection at a time, in order
      payload: { connectionId },
    });
  });
}

/** Was the BullMQ Worker('pms-sync', processor): now a publisher for destination `pms-sync`. */
class PmsSyncPublisher implements Publisher {
  readonly name = 'pms-sync';
  async publish(message: OutboxMessage, { logger }: PublishContext): Promise<void> {
    const { connectionId } = message.payload as { connectionId?: string };
    if (!connectionId) throw new PermanentPublishError('sync without connectionId');
    logger.info({ connectionId }, 'runSync'); // await runSync(connectionId): a throw is retried
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const relay = createRelay({ db, publishers: { 'pms-sync': new PmsSyncPublisher() } });
  relay.start();
  process.once('SIGTERM', () => void relay.stop().then(() => db.destroy()));
}
