import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { NOOP_LOGGER } from '../../../src/core/foundation/logger.js';
import { migrate } from '../../../src/core/migrations/migrate.js';
import { createRelay } from '../../../src/core/relay/relay.js';
import { WebhookPublisher } from '../../../src/publishers/webhook/index.js';
import { startEmbeddedPostgres } from '../../../src/testing/embedded-postgres.js';
import { spawnCli } from '../../e2e/cli-process.js';
import { startWebhookReceiver } from '../../support/webhook-receiver.js';
import { Deliveries, Ledger, runProducers, type Verdict, verify, waitForDrained } from '../harness.js';

const SECRET = `whsec_${Buffer.from('pg-restart-scenario-secret-32-bytes!').toString('base64')}`;

/** Sizes of the restart scenario. */
export interface RestartSizes {
  readonly producers: number;
  readonly messagesPerProducer: number;
  /** Restarts, alternating fast and immediate shutdown. */
  readonly restarts: number;
  /**
   * First restart the server while the binary starts: it is down when `outbox-relay start`
   * connects for the first time and comes back once the binary has logged a failed attempt.
   */
  readonly restartWhileBinaryStarts?: boolean;
}

/**
 * A PostgreSQL of its own, restarted (fast and immediate shutdown, then started again on the
 * same data dir and port) while
 * producers write and two relays deliver to one webhook receiver: one relay in this process
 * (the library on the caller's pool) and the real binary (`outbox-relay start`). Neither
 * process is restarted; their pools must reconnect.
 */
export async function pgRestartScenario(
  sizes: RestartSizes,
): Promise<Verdict & { restarts: string[]; producerErrors: number; binaryExit: number | null }> {
  const startedAt = Date.now();
  const server = await startEmbeddedPostgres({ prefix: 'outbox-relay-restart-' });
  const pool = new pg.Pool({ connectionString: server.url, max: sizes.producers + 4 });
  pool.on('error', () => undefined); // a restart ends idle connections: the app's pool must survive it
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  const t = { url: server.url, schema: 'outbox', pool, db };
  await migrate(db, { schema: t.schema });
  const receiver = await startWebhookReceiver();
  const relayPool = new pg.Pool({ connectionString: server.url, max: 4 });
  relayPool.on('error', () => undefined);
  // kysely holds a pg client during each statement; pg emits 'error' on it when the server
  // goes away, besides failing the statement. Without a listener on checked-out clients that
  // is an uncaught exception (found by this scenario; the binary's pool now does the same).
  relayPool.on('connect', (client) => client.on('error', () => undefined));
  const relayDb = new Kysely<any>({ dialect: new PostgresDialect({ pool: relayPool }) });
  const relay = createRelay({
    db: relayDb,
    schema: t.schema,
    logger: NOOP_LOGGER,
    leaseMs: 3000,
    pollIntervalMs: 10,
    batchSize: 20,
    concurrency: 8,
    publishers: {
      default: new WebhookPublisher({ url: receiver.url, secrets: SECRET, allowPrivateNetworks: true }),
    },
  });
  relay.start();
  const restarts: string[] = [];
  if (sizes.restartWhileBinaryStarts) await server.shutdown({ mode: 'immediate' });
  const binary = spawnCli(['start'], {
    DATABASE_URL: server.url,
    OUTBOX_SCHEMA: t.schema,
    OUTBOX_PUBLISHER_TYPE: 'webhook',
    OUTBOX_WEBHOOK_URL: receiver.url,
    OUTBOX_WEBHOOK_SECRET: SECRET,
    OUTBOX_WEBHOOK_ALLOW_PRIVATE: 'true',
    ENABLE_JOBS: 'false',
    LEASE_MS: '3000',
    POLL_INTERVAL_MS: '10',
    BATCH_SIZE: '20',
    LOG_LEVEL: 'warn',
  });
  const ledger = new Ledger();
  let producerErrors = 0;
  let binaryExit: number | null = null;
  try {
    if (sizes.restartWhileBinaryStarts) {
      // The binary met a database that is not there: it must wait, not exit 1 ("could not start").
      await binary.waitForLog(
        (l) => l.msg === 'database not reachable yet: waiting',
        'a failed first connection',
        // The binary runs through tsx: on a loaded 2-core box its start alone can take 20 s.
        90_000,
      );
      await server.start();
      restarts.push('while the binary starts');
    }
    const producing = runProducers(t, ledger, {
      producers: sizes.producers,
      messagesPerProducer: sizes.messagesPerProducer,
      rollbackRatio: 0.1,
      txSize: 3,
      seed: 5,
      onError: () => {
        producerErrors++;
      },
    });
    for (let i = 0; i < sizes.restarts; i++) {
      const mode = i % 2 === 0 ? 'fast' : 'immediate';
      const before = receiver.requests.length;
      await receiver.waitForRequests(before + 50, 30_000);
      await server.shutdown({ mode });
      await server.start();
      restarts.push(mode);
      // Recovered: both relays deliver again after the restart, without being restarted.
      const after = receiver.requests.length;
      await receiver.waitForRequests(after + 50, 30_000);
    }
    await producing;
    await waitForDrained(t, 'every committed message delivered after the restarts', 60_000);
    binary.child.kill('SIGTERM');
    binaryExit = await binary.exited;
    await relay.stop();
    const deliveries = new Deliveries();
    for (const r of receiver.requests) {
      if (r.id && r.reply.kind === 'status' && r.reply.status < 300) deliveries.record(r.id);
    }
    const verdict = await verify(t, ledger, deliveries, {
      scenario: `2 postgres restart (${restarts.join(', ')})`,
      startedAt,
    });
    if (binaryExit !== 0)
      verdict.problems.push(
        `the binary exited ${binaryExit} on SIGTERM:\n${binary.stdout()}\n${binary.stderr()}`,
      );
    if (binary.stderr().includes('FATAL') || binary.stdout().includes('"level":60'))
      verdict.problems.push(`the binary logged a fatal error:\n${binary.stdout()}\n${binary.stderr()}`);
    return { ...verdict, restarts, producerErrors, binaryExit };
  } finally {
    if (binary.child.exitCode === null) {
      binary.child.kill('SIGKILL');
      await binary.exited;
    }
    await relay.stop();
    await relayPool.end().catch(() => undefined);
    await db.destroy().catch(() => undefined);
    await receiver.close();
    await server.stop();
  }
}
