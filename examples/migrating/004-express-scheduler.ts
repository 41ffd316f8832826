/**
 * Migrating seed 004's Express jobs, scheduler and outbox publisher: the scheduler runs the
 * payout job with node-cron syntax from PAYOUT_CRON, on one replica at a time; the job writes
 * its rows and its `PayoutCalculationJobCompleted` audit event in the transaction that records
 * the run. The outbox publisher job is `outbox-relay start` (job names `outbox`, `cleanup`,
 * `retry` and the /api/admin routes work as before), with OUTBOX_WEBHOOK_FORMAT=envelope so the
 * receivers keep their `{ id, type, aggregateType, aggregateId, payload, occurredAt }` body.
 * Guide: docs/migrating/004-express-scheduler.md.
 *
 * Run: DATABASE_URL=postgres://... npx tsx examples/migrating/004-express-scheduler.ts
 */
import express from 'express';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { createScheduler } from '../../src/jobs/index.js';

const db = new Kysely<any>({
  dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: process.env.DATABASE_URL }) }),
});
const scheduler = createScheduler({ db, schema: 'outbox' });

scheduler.register('payout', process.env.PAYOUT_CRON ?? '0 2 * * 0', async ({ transaction, logger }) =>
  transaction(async (_trx, outbox) => {
    const created = 3; // await calculatePayouts(trx): the payout rows, in this transaction
    await outbox.add({
      type: 'PayoutCalculationJobCompleted',
      destination: 'webhook',
      headers: { 'aggregate-type': 'Payout', 'aggregate-id': 'weekly' },
      payload: { created, skipped: 12, errors: 0 },
    });
    logger.info({ created }, 'payouts calculated');
    return { created, skipped: 12, errors: 0 }; // "[Job:payout] succeeded: created 3, skipped 12, errors 0"
  }),
);

const app = express();
// Seed 004's manual trigger for the app's own jobs; outbox/cleanup/retry are the binary's routes.
app.post('/api/admin/jobs/run/payout', async (_req, res) => {
  res.json(await scheduler.runOnce('payout'));
});

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.env.ENABLE_JOBS !== 'false') scheduler.start();
  const server = app.listen(Number(process.env.PORT ?? 3001));
  process.once('SIGTERM', () => {
    server.close();
    void scheduler.stop().then(() => db.destroy());
  });
}
