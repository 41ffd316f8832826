import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { TransientPublishError } from '../core/errors.js';
import { type Logger, NOOP_LOGGER } from '../core/logger.js';
import type { OutboxMessage } from '../core/message.js';
import { migrate } from '../core/migrate.js';
import { createOutbox } from '../core/outbox.js';
import { createRelay } from '../core/relay.js';
import { quoteSchema } from '../core/schema-name.js';
import { ConsolePublisher } from '../publishers/console/console-publisher.js';
import type { Publisher, PublishContext } from '../publishers/publisher.js';
import { publisherAvailable } from './build-publishers.js';
import { startEmbeddedPostgres } from '../testing/embedded-postgres.js';
import { startFakeRouter } from '../testing/fake-router/index.js';

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
  /** Give up when the outbox is not drained by then. Default 120 s. */
  timeoutMs?: number;
  out: NodeJS.WriteStream;
  /** Relay logs (errors only by default: the demo speaks through its progress line). */
  logger?: Logger;
}

/** The demo's summary; every count is read from the database at the end. */
export interface DemoSummary {
  schema: string;
  ordersCommitted: number;
  messagesCommitted: number;
  events: number;
  commands: number;
  delivered: number;
  /** Delivered after more than one attempt. */
  deliveredAfterRetry: number;
  /** Failed attempts the relay scheduled for retry. */
  failedAttempts: number;
  dead: number;
  deadPermanent: number;
  deadGaveUp: number;
  pendingOrInFlight: number;
  rolledBack: number;
  rolledBackFoundInDatabase: number;
  webhook: { enabled: boolean; received: number; badSignatures: number; deliveredButNotReceived: number };
  routeros: { enabled: boolean; secretsOnRouter: number };
  relayDelivered: number;
  relayDead: number;
  durationMs: number;
  ok: boolean;
}

/** A publisher in front of another that fails the first `failFirst` attempts, like a flaky downstream. */
class FlakyPublisher implements Publisher {
  readonly name: string;
  constructor(private readonly inner: Publisher) {
    this.name = inner.name;
  }
  async publish(message: OutboxMessage, context: PublishContext): Promise<unknown> {
    const failFirst = Number(message.headers['x-demo-fail-first'] ?? 0);
    if (context.attempt <= failFirst) {
      throw new TransientPublishError(
        `demo: downstream busy (attempt ${context.attempt} of ${failFirst} planned failures)`,
      );
    }
    return this.inner.publish(message, context);
  }
  async close(): Promise<void> {
    await this.inner.close?.();
  }
}

/** A local webhook receiver that verifies every signature and answers 503 to planned first attempts. */
async function startReceiver(secret: string) {
  const { verifyWebhook } = await import('../publishers/webhook/index.js');
  const received = new Set<string>();
  const attempts = new Map<string, number>();
  let badSignatures = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let id: string | undefined;
      try {
        id = verifyWebhook({ headers: req.headers, body, secrets: [secret] }).id;
      } catch {
        badSignatures++;
        res.writeHead(400).end('bad signature');
        return;
      }
      const key = id ?? '';
      const n = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, n);
      const failFirst = Number((JSON.parse(body.toString('utf8')) as { failFirst?: number }).failFirst ?? 0);
      if (n <= failFirst) {
        res.writeHead(503, { 'retry-after': '0' }).end('busy');
        return;
      }
      received.add(key);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/orders`,
    received,
    badSignatures: () => badSignatures,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Starts the project's fake RouterOS router (src/testing), which the demo provisions. */
function startRouter() {
  return startFakeRouter({ host: '127.0.0.1', users: { api: 'demo-password' }, profiles: ['50M'] });
}

const CUSTOMERS = ['acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark'];

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
  const started = Date.now();
  const out = options.out;
  const tty = out.isTTY === true && !options.json;
  const say = (line: string) => {
    if (!options.json) out.write(`${tty ? '\r\x1b[2K' : ''}${line}\n`);
  };
  const ordersWanted = options.orders ?? 300;
  const webhookEnabled = publisherAvailable('webhook');
  let routerosEnabled = publisherAvailable('routeros');

  let embedded: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined;
  let url = options.databaseUrl;
  if (!url) {
    say('Starting an embedded PostgreSQL (first run unpacks it; no network needed)...');
    embedded = await startEmbeddedPostgres({ prefix: 'outbox-relay-demo-' });
    url = embedded.url;
  }
  const schema = options.schema ?? (embedded ? 'outbox' : `outbox_demo_${randomBytes(4).toString('hex')}`);
  const s = quoteSchema(schema, 'schema');
  const pool = new pg.Pool({ connectionString: url, max: 20 });
  pool.on('error', () => undefined);
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;
  const stopping: Array<() => Promise<void>> = [];
  try {
    const { version } = await migrate(db, { schema });
    const existing = await pool.query(`select count(*)::int as n from ${s}.messages`);
    if ((existing.rows[0] as { n: number }).n > 0) {
      throw new Error(
        `schema "${schema}" already has messages; the demo needs an empty schema (pass --schema <new name>)`,
      );
    }
    await pool.query(`create table if not exists ${s}.demo_orders (
      id bigint generated always as identity primary key,
      customer text not null,
      amount_cents int not null,
      created_at timestamptz not null default now())`);
    say(`Schema "${schema}" migrated to version ${version}.`);

    const publishers: Record<string, Publisher> = {};
    let consoleLines = 0;
    const consoleLogger: Logger = {
      ...NOOP_LOGGER,
      info(obj: object) {
        // The console publisher's first lines show what a delivery looks like; the rest would flood.
        if (++consoleLines <= 4) {
          const o = obj as { type?: string; destination?: string; payload?: unknown; attempt?: number };
          say(`  console ▸ ${o.type} → ${o.destination} (attempt ${o.attempt}) ${JSON.stringify(o.payload)}`);
        } else if (consoleLines === 5) say('  console ▸ ... (further console lines hidden)');
      },
      child: () => consoleLogger,
    };
    publishers.console = new FlakyPublisher(new ConsolePublisher({ logger: consoleLogger }));
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    if (webhookEnabled) {
      receiver = await startReceiver(secret);
      stopping.push(() => receiver!.close());
      const { WebhookPublisher } = await import('../publishers/webhook/index.js');
      publishers.webhook = new WebhookPublisher({
        url: receiver.url,
        secrets: [secret],
        allowPrivateNetworks: true,
      });
      say(`Webhook receiver listening on ${receiver.url} (verifies every signature).`);
    } else {
      say('Webhook publisher not available in this build: events go to the console publisher.');
    }
    const router = routerosEnabled ? await startRouter() : undefined;
    if (router) {
      stopping.push(() => router.close());
      const ros = await import('../publishers/routeros/index.js');
      const cipher = new ros.CredentialsCipher({ key: randomBytes(32) });
      const registry = new ros.DeviceRegistry({ db, schema, cipher });
      for (const name of ['tower-1', 'tower-2', 'tower-3']) {
        if (!(await registry.get(name))) {
          await registry.add({
            name,
            host: router.host,
            port: router.port,
            username: 'api',
            password: 'demo-password',
          });
        }
      }
      publishers.routeros = new ros.RouterOsPublisher({
        devices: new ros.TableDeviceResolver({ db, schema, cipher }),
        connectTimeoutMs: 5_000,
        commandTimeoutMs: 5_000,
      });
      say(
        `Fake RouterOS router on ${router.host}:${router.port} with devices tower-1..3 (passwords encrypted in "${schema}".devices).`,
      );
    } else {
      routerosEnabled = false;
      say(
        'RouterOS publisher or fake router not available here: PPPoE commands go to the console publisher.',
      );
    }

    const relay = createRelay({
      db,
      schema,
      publishers,
      workerId: 'demo',
      batchSize: 50,
      concurrency: 16,
      pollIntervalMs: 20,
      leaseMs: 30_000,
      retry: { baseDelayMs: 50, factor: 2, maxDelayMs: 400, jitter: 0.2 },
      logger: options.logger ?? NOOP_LOGGER,
    });
    relay.on('error', () => undefined);
    relay.start();
    stopping.unshift(() => relay.stop({ timeoutMs: 5_000 }));

    const outbox = createOutbox({ schema, maxAttempts: 6 });
    const rolledBackIds: string[] = [];
    let committedOrders = 0;
    let written = 0;
    const progress = () => {
      const c = relay.counters();
      return `written ${written} · rolled back ${rolledBackIds.length} · delivered ${c.delivered} · failed attempts ${c.retried} · dead ${c.dead}`;
    };
    const ticker = setInterval(
      () => {
        if (options.json) return;
        if (tty) out.write(`\r\x1b[2K${progress()}`);
        else out.write(`${progress()}\n`);
      },
      tty ? 100 : 1000,
    );
    ticker.unref();

    class DemoRollback extends Error {}
    const writeOrder = async (i: number) => {
      const customer = CUSTOMERS[i % CUSTOMERS.length]!;
      const rollback = i % 10 === 9;
      // Every 7th downstream call fails twice first; the relay retries with backoff.
      const failFirst = i % 7 === 3 ? 2 : 0;
      const ids: string[] = [];
      try {
        await db.transaction().execute(async (trx) => {
          const order = await trx
            .withSchema(schema)
            .insertInto('demo_orders')
            .values({ customer, amount_cents: 1000 + ((i * 137) % 9000) })
            .returning('id')
            .executeTakeFirstOrThrow();
          const payload = { orderId: String(order.id), customer, failFirst };
          ids.push(
            await outbox.add(trx, {
              type: 'order.created',
              payload,
              destination: webhookEnabled && i % 2 === 0 ? `webhook:${customer}` : 'console',
              tenantId: customer,
              orderingKey: `order-${order.id}`,
              headers: { 'x-demo-fail-first': String(failFirst) },
            }),
          );
          if (i % 5 === 0) {
            ids.push(
              await outbox.addCommand(trx, {
                device: `tower-${(i % 3) + 1}`,
                action: 'pppoe.create',
                params: {
                  name: `${customer}-${order.id}`,
                  password: `pw-${order.id}`,
                  profile: '50M',
                  service: 'pppoe',
                },
                tenantId: customer,
                ...(routerosEnabled ? {} : { destination: 'console' }),
              }),
            );
          }
          if (i % 50 === 25) {
            // Nobody serves this destination: the relay dead-letters it at once, with the reason.
            ids.push(
              await outbox.add(trx, {
                type: 'order.synced',
                payload,
                destination: 'legacy-crm',
                tenantId: customer,
              }),
            );
          }
          if (i % 60 === 11) {
            // Fails more often than its budget allows: dies as "gave up after 2 attempts".
            ids.push(
              await outbox.add(trx, {
                type: 'order.invoiced',
                payload,
                destination: 'console',
                tenantId: customer,
                maxAttempts: 2,
                headers: { 'x-demo-fail-first': '5' },
              }),
            );
          }
          if (rollback) throw new DemoRollback('payment declined');
        });
        committedOrders++;
        written += ids.length;
      } catch (error) {
        if (!(error instanceof DemoRollback)) throw error;
        rolledBackIds.push(...ids);
      }
      relay.wake();
    };

    say(
      `Writing ${ordersWanted} orders, each with its event (and some with a PPPoE command) in one transaction...`,
    );
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < ordersWanted) await writeOrder(next++);
      }),
    );

    const deadline = Date.now() + (options.timeoutMs ?? 120_000);
    for (;;) {
      const r = await pool.query(
        `select count(*)::int as n from ${s}.messages where status in ('pending', 'in_flight')`,
      );
      if ((r.rows[0] as { n: number }).n === 0) break;
      if (Date.now() > deadline)
        throw new Error(`the outbox was not drained within the demo's timeout; ${progress()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    clearInterval(ticker);
    for (const stop of stopping.splice(0)) await stop();
    if (tty) out.write('\r\x1b[2K');

    const q = async (text: string, values: unknown[] = []) =>
      Number(((await pool.query(text, values)).rows[0] as { n: number | string }).n);
    const delivered = await q(`select count(*) as n from ${s}.messages where status = 'delivered'`);
    const deliveredIds = (
      await pool.query(
        `select message_id from ${s}.messages where status = 'delivered' and destination like 'webhook%'`,
      )
    ).rows.map((r: { message_id: string }) => r.message_id);
    const counters = relay.counters();
    const summary: DemoSummary = {
      schema,
      ordersCommitted: await q(`select count(*) as n from ${s}.demo_orders`),
      messagesCommitted: await q(`select count(*) as n from ${s}.messages`),
      events: await q(`select count(*) as n from ${s}.messages where kind = 'event'`),
      commands: await q(`select count(*) as n from ${s}.messages where kind = 'command'`),
      delivered,
      deliveredAfterRetry: await q(
        `select count(*) as n from ${s}.messages where status = 'delivered' and attempts > 1`,
      ),
      failedAttempts: counters.retried,
      dead: await q(`select count(*) as n from ${s}.messages where status = 'dead'`),
      deadPermanent: await q(
        `select count(*) as n from ${s}.messages where status = 'dead' and last_error not like 'gave up after %'`,
      ),
      deadGaveUp: await q(
        `select count(*) as n from ${s}.messages where status = 'dead' and last_error like 'gave up after %'`,
      ),
      pendingOrInFlight: await q(
        `select count(*) as n from ${s}.messages where status in ('pending', 'in_flight')`,
      ),
      rolledBack: rolledBackIds.length,
      rolledBackFoundInDatabase: await q(
        `select count(*) as n from ${s}.messages where message_id = any($1::uuid[])`,
        [rolledBackIds],
      ),
      webhook: {
        enabled: webhookEnabled,
        received: receiver?.received.size ?? 0,
        badSignatures: receiver?.badSignatures() ?? 0,
        deliveredButNotReceived: receiver
          ? deliveredIds.filter((id) => !receiver!.received.has(id)).length
          : 0,
      },
      routeros: {
        enabled: routerosEnabled,
        secretsOnRouter: router ? router.state.rows('/ppp/secret').length : 0,
      },
      relayDelivered: counters.delivered,
      relayDead: counters.dead,
      durationMs: Date.now() - started,
      ok: false,
    };
    summary.ok =
      summary.ordersCommitted === committedOrders &&
      summary.messagesCommitted === written &&
      summary.delivered + summary.dead === summary.messagesCommitted &&
      summary.pendingOrInFlight === 0 &&
      summary.rolledBackFoundInDatabase === 0 &&
      summary.relayDelivered === summary.delivered &&
      summary.webhook.badSignatures === 0 &&
      summary.webhook.deliveredButNotReceived === 0 &&
      (!routerosEnabled || summary.routeros.secretsOnRouter === summary.commands);
    printSummary(summary, options, say);
    return summary;
  } finally {
    for (const stop of stopping) await stop().catch(() => undefined);
    await db.destroy().catch(() => undefined);
    if (embedded) await embedded.stop().catch(() => undefined);
  }
}

function printSummary(summary: DemoSummary, options: DemoOptions, say: (line: string) => void): void {
  if (options.json) {
    options.out.write(`${JSON.stringify(summary)}\n`);
    return;
  }
  const lines = [
    '',
    `Summary (read back from the database, schema "${summary.schema}", ${(summary.durationMs / 1000).toFixed(1)} s):`,
    `  orders committed            ${summary.ordersCommitted}`,
    `  messages committed          ${summary.messagesCommitted} (${summary.events} events, ${summary.commands} commands)`,
    `  delivered                   ${summary.delivered}`,
    `    of which after retries    ${summary.deliveredAfterRetry} (${summary.failedAttempts} failed attempts retried with backoff)`,
    `  dead                        ${summary.dead} (${summary.deadPermanent} permanent, ${summary.deadGaveUp} gave up after their attempts)`,
    `  rolled back, never sent     ${summary.rolledBack} messages; found in the outbox: ${summary.rolledBackFoundInDatabase}`,
    summary.webhook.enabled
      ? `  webhook receiver            ${summary.webhook.received} verified deliveries, ${summary.webhook.badSignatures} bad signatures`
      : '  webhook receiver            (webhook publisher not in this build)',
    summary.routeros.enabled
      ? `  fake router                 ${summary.routeros.secretsOnRouter} PPPoE secrets created by ${summary.commands} commands`
      : '  fake router                 (RouterOS publisher not in this build)',
    summary.ok
      ? 'All counts agree: nothing lost, nothing rolled back was sent.'
      : 'MISMATCH: the counts above do not agree.',
    `Inspect the dead letters with: outbox-relay dead list (schema ${summary.schema})`,
  ];
  for (const l of lines) say(l);
}
