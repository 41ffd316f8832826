import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/cli/config/load-config.js';
import { createCliScheduler } from '../../src/cli/runtime/cli-jobs.js';
import { NOOP_LOGGER } from '../../src/core/foundation/logger.js';
import { sqlRunner } from '../../src/core/foundation/queryable.js';
import { createScheduler, type Scheduler } from '../../src/jobs/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.close());
beforeEach(async () => {
  await t.pool.query(`truncate "${t.schema}".messages, "${t.schema}".job_runs`);
});

async function events() {
  const { rows } = await t.pool.query(
    `select type, destination, ordering_key, payload from "${t.schema}".messages order by id`,
  );
  return rows;
}
async function runs() {
  const { rows } = await t.pool.query(`select job_name, status from "${t.schema}".job_runs order by id`);
  return rows;
}

describe('job events', () => {
  let scheduler: Scheduler;
  beforeAll(() => {
    scheduler = createScheduler({
      db: t.db,
      schema: t.schema,
      eventsDestination: 'audit',
      logger: NOOP_LOGGER,
    });
    scheduler.register('payout', null, async ({ transaction }) => {
      // Seed 004's audit event, written with the job's own rows.
      await transaction(async (trx, outbox) => {
        await outbox.add({
          type: 'PayoutCalculationJobCompleted',
          destination: 'audit',
          payload: { created: 3 },
        });
        // The job's own business rows would be written here, on `trx`.
        await sqlRunner(trx)('select 1');
      });
      return { created: 3, skipped: 12, errors: 0 };
    });
    scheduler.register('broken', null, async ({ transaction }) => {
      await transaction((_trx, outbox) =>
        outbox.add({ type: 'never.seen', destination: 'audit', payload: {} }),
      );
      throw new Error('payout provider down');
    });
  });

  it('writes the job’s events and job.completed with its counts, with the run', async () => {
    const outcome = await scheduler.runOnce('payout');
    expect(outcome.status).toBe('succeeded');
    expect(await events()).toEqual([
      {
        type: 'PayoutCalculationJobCompleted',
        destination: 'audit',
        ordering_key: null,
        payload: { created: 3 },
      },
      {
        type: 'job.completed',
        destination: 'audit',
        ordering_key: 'job:payout',
        payload: expect.objectContaining({
          job: 'payout',
          reason: 'manual',
          result: { created: 3, skipped: 12, errors: 0 },
        }),
      },
    ]);
    expect(await runs()).toEqual([{ job_name: 'payout', status: 'succeeded' }]);
  });

  it('writes no event for a job that throws: its transaction rolls back', async () => {
    const outcome = await scheduler.runOnce('broken');
    expect(outcome).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('payout provider down'),
    });
    expect(await events()).toEqual([]);
    expect(await runs()).toEqual([{ job_name: 'broken', status: 'failed' }]);
  });

  it('writes job.completed for the built-in jobs when JOB_EVENTS_DESTINATION is set', async () => {
    const { config } = loadConfig({ OUTBOX_SCHEMA: t.schema, JOB_EVENTS_DESTINATION: 'webhook' });
    const cli = createCliScheduler(config, { db: t.db, logger: NOOP_LOGGER, publishers: async () => ({}) });
    expect((await cli.runOnce('cleanup')).status).toBe('succeeded');
    const [event] = await events();
    expect(event).toMatchObject({
      type: 'job.completed',
      destination: 'webhook',
      payload: { job: 'cleanup', result: { deleted: 0, retentionDays: 30 } },
    });
  });
});
