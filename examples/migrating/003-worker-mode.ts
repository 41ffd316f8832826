/**
 * Migrating seed 003's API + separate worker: the API keeps serving HTTP and writes events; the
 * worker is `outbox-relay start` with WORKER_MODE=1 (or run once: WORKER_RUN_ONCE=1 for a
 * cron/k8s Job). The same split in one file of your own, for apps that embed the relay: the
 * matrix below is seed 003's (`workerRoles` in the binary does the same from env).
 * Guide: docs/migrating/003-worker-mode.md.
 *
 * Run: DATABASE_URL=postgres://... WORKER_MODE=1 npx tsx examples/migrating/003-worker-mode.ts
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { ConsolePublisher, createRelay } from '../../src/index.js';
import { drainRelay } from '../../src/jobs/index.js';

const truthy = (v: string | undefined) => v === '1' || v === 'true';
const workerMode = truthy(process.env.WORKER_MODE);
// Seed 003: JOB_RUNNER_ENABLED defaults to true in worker mode, false in API mode.
const runner =
  process.env.JOB_RUNNER_ENABLED === undefined ? workerMode : truthy(process.env.JOB_RUNNER_ENABLED);

if (import.meta.url === `file://${process.argv[1]}` && runner) {
  const db = new Kysely<any>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: process.env.DATABASE_URL }) }),
  });
  const relay = createRelay({ db, publishers: { default: new ConsolePublisher() } });
  if (truthy(process.env.WORKER_RUN_ONCE)) {
    console.log(await drainRelay(relay)); // one cycle, then exit (k8s Job)
    await relay.stop();
    await db.destroy();
  } else {
    console.log('Starting job runner in WORKER mode');
    relay.start();
    process.once('SIGTERM', () => void relay.stop().then(() => db.destroy()));
  }
}
