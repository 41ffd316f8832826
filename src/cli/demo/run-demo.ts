import { randomBytes } from 'node:crypto';
import { describeError, OutboxError } from '../../core/foundation/errors.js';
import { type Logger, NOOP_LOGGER } from '../../core/foundation/logger.js';
import { migrate } from '../../core/migrations/migrate.js';
import { createOutbox } from '../../core/producer/outbox.js';
import { getStats } from '../../core/maintenance/outbox-stats.js';
import { createRelay, type Relay } from '../../core/relay/relay.js';
import { ConsolePublisher } from '../../publishers/console/console-publisher.js';
import { WebhookPublisher } from '../../publishers/webhook/index.js';
import { startEmbeddedPostgres } from '../../testing/index.js';
import { openDatabase } from '../runtime/cli-database.js';
import { startDemoReceiver } from './demo-receiver.js';
import { startDemoRouter } from './demo-router.js';
import { DemoScreen } from './demo-screen.js';
import { type DemoSummary, readSummary, summaryLines } from './demo-summary.js';
import { createOrdersTable, runWorkload, type WorkloadTally } from './demo-workload.js';
import { FlakyPublisher } from './flaky-publisher.js';
import { SettledMessages } from './settled-messages.js';

export type { DemoSummary };

/** Options of `runDemo`. */
export interface DemoOptions {
  /** Use this server instead of an embedded one (a fresh schema is created in it). */
  databaseUrl?: string;
  /** Schema to use; default `outbox` on the embedded server, `outbox_demo_<random>` on yours. */
  schema?: string;
  /** Business transactions to run. Default 300. */
  orders?: number;
  /** Print the summary as one JSON object (for scripts and tests). */
  json?: boolean;
  /** Give up when the messages are not all delivered or dead by then. Default 120 s. */
  timeoutMs?: number;
  out: NodeJS.WriteStream;
  /** Relay logs, and failures while shutting the demo down. */
  logger?: Logger;
}

/** Something the demo started, and how to stop it. */
interface Closer {
  readonly what: string;
  close(): Promise<unknown>;
}

/** Stops everything in reverse start order; returns what failed instead of stopping halfway. */
async function closeAll(closers: Closer[]): Promise<Error[]> {
  const failures: Error[] = [];
  for (const closer of closers.splice(0).reverse()) {
    try {
      await closer.close();
    } catch (error) {
      failures.push(new Error(`${closer.what}: ${describeError(error)}`, { cause: error }));
    }
  }
  return failures;
}

/**
 * The newcomer's tour: PostgreSQL (embedded unless a URL is given), migrations, orders written
 * with their events and device commands in one transaction each (some rolled back, some
 * failing their first attempts, a few that can never be delivered), the relay delivering them
 * with retries, a live progress line and a summary read back from the database.
 *
 * @example
 * const summary = await runDemo({ out: process.stdout });
 * process.exitCode = summary.ok ? 0 : 1;
 */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const logger = options.logger ?? NOOP_LOGGER;
  const closers: Closer[] = [];
  let summary: DemoSummary;
  try {
    summary = await tour(options, logger, closers);
  } catch (error) {
    // The tour's own error is the one to report; a failed shutdown after it is logged.
    for (const failure of await closeAll(closers))
      logger.error({ err: failure.message }, 'demo cleanup failed');
    throw error;
  }
  const failures = await closeAll(closers);
  if (failures.length > 0) {
    throw new AggregateError(
      failures,
      `the demo finished but shutting down failed: ${failures.map((f) => f.message).join('; ')}`,
    );
  }
  return summary;
}

async function tour(options: DemoOptions, logger: Logger, closers: Closer[]): Promise<DemoSummary> {
  const startedAt = Date.now();
  const screen = new DemoScreen(options.out, options.json === true);
  let url = options.databaseUrl;
  let schema = options.schema ?? `outbox_demo_${randomBytes(4).toString('hex')}`;
  if (!url) {
    screen.say('Starting an embedded PostgreSQL (first run unpacks it; no network needed)...');
    const embedded = await startEmbeddedPostgres({ prefix: 'outbox-relay-demo-' });
    closers.push({ what: 'stopping the embedded PostgreSQL', close: () => embedded.stop() });
    url = embedded.url;
    schema = options.schema ?? 'outbox';
  }
  const database = openDatabase(url, { max: 20, logger, applicationName: 'outbox-relay:demo' });
  closers.push({ what: 'closing the database pool', close: () => database.close() });
  const { db } = database;

  const { version } = await migrate(db, { schema });
  const before = await getStats(db, { schema, exact: true });
  if (Object.values(before.byStatus).some((n) => n > 0)) {
    throw new OutboxError(
      'CONFIG_INVALID',
      `schema "${schema}" already has messages; the demo needs an empty schema (pass --schema <new name>)`,
    );
  }
  await createOrdersTable(db, schema);
  screen.say(`Schema "${schema}" migrated to version ${version}.`);

  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const receiver = await startDemoReceiver(secret);
  closers.push({ what: 'closing the webhook receiver', close: () => receiver.close() });
  screen.say(`Webhook receiver listening on ${receiver.url} (verifies every signature).`);
  const router = await startDemoRouter(db, schema);
  closers.push({ what: 'closing the fake router', close: () => router.router.close() });
  screen.say(
    `Fake RouterOS router on ${router.router.host}:${router.router.port} with devices tower-1..3 (passwords encrypted in "${schema}".devices).`,
  );

  const relay = createRelay({
    db,
    schema,
    publishers: {
      console: new FlakyPublisher(new ConsolePublisher({ logger: screen.consolePublisherLogger() })),
      webhook: new WebhookPublisher({ url: receiver.url, secrets: [secret], allowPrivateNetworks: true }),
      routeros: router.publisher,
    },
    workerId: 'demo',
    batchSize: 50,
    concurrency: 16,
    pollIntervalMs: 20,
    leaseMs: 30_000,
    retry: { baseDelayMs: 50, factor: 2, maxDelayMs: 400, jitter: 0.2 },
    logger,
  });
  const settled = new SettledMessages(relay);
  relay.start();
  const relayCloser: Closer = { what: 'stopping the relay', close: () => relay.stop({ timeoutMs: 5_000 }) };
  closers.push(relayCloser);

  const tally: WorkloadTally = { committedOrders: 0, committedIds: [], rolledBackIds: [] };
  const progress = () => progressLine(tally, relay);
  const orders = options.orders ?? 300;
  screen.say(
    `Writing ${orders} orders, each with its event (and some with a PPPoE command) in one transaction...`,
  );
  const hideProgress = screen.showProgress(progress);
  try {
    const outbox = createOutbox({ schema, maxAttempts: 6 });
    await runWorkload({ db, outbox, schema, orders, afterCommit: () => relay.wake() }, tally);
    await settled.waitFor(tally.committedIds, {
      timeoutMs: options.timeoutMs ?? 120_000,
      describe: progress,
    });
  } finally {
    hideProgress();
  }
  // Stop before reading back, so the relay's counters are final.
  closers.splice(closers.indexOf(relayCloser), 1);
  await relayCloser.close();

  const summary = await readSummary({
    db,
    schema,
    tally,
    receiver,
    router,
    counters: relay.counters(),
    startedAt,
  });
  if (options.json) screen.json(summary);
  else for (const line of summaryLines(summary)) screen.say(line);
  return summary;
}

function progressLine(tally: WorkloadTally, relay: Relay): string {
  const c = relay.counters();
  return `written ${tally.committedIds.length} · rolled back ${tally.rolledBackIds.length} · delivered ${c.delivered} · failed attempts ${c.retried} · dead ${c.dead}`;
}
