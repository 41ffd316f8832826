// Issue 22 item 1: the circuit breaker. A destination failing transiently at a high rate opens
// for every relay sharing the table: its messages wait (no attempt used, none dead-lettered),
// one probe per interval, and the probe that gets through closes it and everything drains.
// Relays in this process against a real receiver and a real (closed) TCP port;
// test/e2e/circuit-breaker.test.ts runs the fleet promises with real processes.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { NOOP_LOGGER } from '../../src/core/foundation/logger.js';
import {
  listDestinations,
  resumeDestination,
  retryDestinationNow,
} from '../../src/core/maintenance/index.js';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { resolveBreakerOptions } from '../../src/core/relay/breaker-options.js';
import { createRelay, type Relay, type RelayOptions } from '../../src/core/relay/relay.js';
import { RouterOsPublisher } from '../../src/publishers/routeros/routeros-publisher.js';
import { StaticDeviceResolver } from '../../src/publishers/routeros/static-device-resolver.js';
import { WebhookPublisher } from '../../src/publishers/webhook/webhook-publisher.js';
import type { TestDatabase } from '../support/database.js';
import { destinationTestBed } from '../support/destination-test-bed.js';
import { waitFor } from '../support/recording-publisher.js';
import { reply, startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

let t: TestDatabase;
let receiver: WebhookReceiver;
/** Probe interval of these tests (the look at the destinations table runs every 500 ms). */
const PROBE_MS = 300;

const cleanups = destinationTestBed({
  tables: ['destinations'],
  startReceiver: startWebhookReceiver,
  use: (db, r) => {
    t = db;
    if (r) receiver = r;
  },
});

function relay(extra: Partial<RelayOptions> = {}): Relay {
  const webhook = new WebhookPublisher({
    url: `${receiver.url}/hooks`,
    resolveUrl: (m) => `${receiver.url}/${m.destination.split(':')[1] ?? 'hooks'}`,
    secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    allowPrivateNetworks: true,
  });
  const r = createRelay({
    db: t.db,
    schema: t.schema,
    publishers: { webhook },
    logger: NOOP_LOGGER,
    pollIntervalMs: 20,
    retry: { baseDelayMs: 50, factor: 2, maxDelayMs: 1_000, jitter: 0 },
    breaker: { probeMs: PROBE_MS, probeMaxMs: 2 * PROBE_MS, windowMs: 5_000 },
    ...extra,
  });
  cleanups.push(async () => {
    await r.stop();
    await webhook.close();
  });
  return r;
}

const add = (destination: string, n: number, orderingKey?: (i: number) => string | undefined) =>
  createOutbox({ schema: t.schema }).addMany(
    t.db,
    Array.from({ length: n }, (_, i) => {
      const key = orderingKey?.(i);
      return {
        type: 'invoice.paid',
        destination,
        payload: { i, key: key ?? null },
        ...(key ? { orderingKey: key } : {}),
      };
    }),
  );

async function count(where: string): Promise<number> {
  const { rows } = await t.pool.query<{ n: number }>(
    `select count(*)::int as n from "${t.schema}".all_messages where ${where}`,
  );
  return rows[0]!.n;
}

async function breakerOf(name: string): Promise<string> {
  const d = (await listDestinations(t.db, { schema: t.schema })).find((x) => x.name === name);
  return d?.breaker ?? 'closed';
}

const isBad = (body: string) => (JSON.parse(body) as { key: string | null }).key === 'bad';
const toPath = (path: string) => receiver.requests.filter((r) => r.path === path).length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('circuit breaker', () => {
  it('opens under an outage: about one probe per interval, nothing dead, and the probe that gets through drains everything', async () => {
    receiver.respond((req) => (req.path === '/acme' ? reply.status(503) : reply.ok()));
    await add('webhook:acme', 300);
    const r = relay({ batchSize: 50, concurrency: 8, opsEventsDestination: 'webhook:ops' });
    const events: string[] = [];
    r.on('destination.opened', (i) => events.push(`opened ${i.destination}`));
    r.on('destination.closed', (i) => events.push(`closed ${i.destination}`));
    r.start();
    await waitFor(async () => (await breakerOf('webhook:acme')) !== 'closed', 'the breaker to open', 10_000);
    await sleep(200); // attempts already in flight when it opened come back
    const atOpen = toPath('/acme');
    expect(atOpen).toBeLessThan(100); // far from 300 messages x several attempts
    await sleep(3_000);
    const duringOutage = toPath('/acme') - atOpen;
    // 3 s at probes of 300 ms doubling to 600 ms, looked at every 500 ms: at most ~6.
    expect(duringOutage).toBeGreaterThanOrEqual(2);
    expect(duringOutage).toBeLessThanOrEqual(8);
    expect(await count(`status = 'dead'`)).toBe(0);

    receiver.respond(reply.ok());
    const back = Date.now();
    await waitFor(
      async () => (await count(`status = 'delivered' and destination = 'webhook:acme'`)) === 300,
      'the drain',
      10_000,
    );
    expect(Date.now() - back).toBeLessThan(2 * PROBE_MS + 3_000);
    expect(await breakerOf('webhook:acme')).toBe('closed');
    await waitFor(() => events.includes('closed webhook:acme'), 'the closed event', 5_000);
    expect(events.slice(0, 2)).toEqual(['opened webhook:acme', 'closed webhook:acme']);

    // Ops events: ordinary messages to webhook:ops, delivered signed.
    await waitFor(() => toPath('/ops') >= 2, 'the ops events', 5_000);
    const ops = receiver.requests
      .filter((q) => q.path === '/ops')
      .map((q) => JSON.parse(q.body) as { type: string; data?: unknown });
    const types = ops.map((o) => JSON.stringify(o));
    expect(types.some((x) => x.includes('outbox.destination.opened'))).toBe(true);
    expect(types.some((x) => x.includes('outbox.destination.closed'))).toBe(true);
    expect(
      receiver.requests.filter((q) => q.path === '/ops').every((q) => q.headers['webhook-signature']),
    ).toBe(true);
  });

  it('writes outbox.message.dead to the ops destination, and nothing about the ops destination to itself', async () => {
    // Every message of webhook:bad dies (400); the ops destination itself is down (503).
    receiver.respond((req) => (req.path === '/bad' ? reply.status(400) : reply.status(503)));
    await add('webhook:bad', 20);
    const r = relay({ opsEventsDestination: 'webhook:ops' });
    r.start();
    await waitFor(
      async () => (await breakerOf('webhook:ops')) !== 'closed',
      'the ops destination to open',
      10_000,
    );
    const ops = async () =>
      (
        await t.pool.query<{ about: string; type: string }>(
          `select payload->>'destination' as about, type from "${t.schema}".messages where destination = 'webhook:ops'`,
        )
      ).rows;
    const deadEvents = async () =>
      (await ops()).filter((x) => x.type === 'outbox.message.dead' && x.about === 'webhook:bad').length;
    await waitFor(async () => (await deadEvents()) === 20, 'an ops event per dead message', 5_000);
    await sleep(600); // a look of the relays: the ops breaker's own events would be written by now
    const rows = await ops();
    // Its own breaker opened, and its messages would die at their last attempt: no event of it.
    expect(rows.filter((x) => x.about === 'webhook:ops')).toEqual([]);
  });

  it('one failing key among healthy keys does not open its destination; a destination failing everywhere does', async () => {
    // Key "bad" always fails; every other key of webhook:acme is delivered. webhook:down fails all.
    receiver.respond((req) => (req.path === '/down' || isBad(req.body) ? reply.status(503) : reply.ok()));
    await add('webhook:acme', 5, () => 'bad');
    await add('webhook:acme', 200, (i) => `k${i % 20}`);
    await add('webhook:down', 30);
    const r = relay({ retry: { baseDelayMs: 10, factor: 1.5, maxDelayMs: 40, jitter: 0 } });
    const opened: string[] = [];
    r.on('destination.opened', (i) => opened.push(i.destination));
    r.start();
    await waitFor(async () => (await count(`status = 'delivered'`)) === 200, 'the healthy keys', 10_000);
    // The bad key alone keeps failing, many times over the rule's 10 attempts.
    const badBefore = receiver.requests.filter((q) => isBad(q.body)).length;
    await sleep(1_500);
    expect(receiver.requests.filter((q) => isBad(q.body)).length - badBefore).toBeGreaterThan(15);
    expect(await breakerOf('webhook:acme')).toBe('closed');
    expect(await breakerOf('webhook:down')).not.toBe('closed');
    expect(opened).toEqual(['webhook:down']);
  });

  it('permanent failures (400, 410) never open it', async () => {
    receiver.respond((req) =>
      req.path === '/bad' ? reply.status(400) : req.path === '/gone' ? reply.gone() : reply.status(503),
    );
    await add('webhook:bad', 40);
    await add('webhook:gone', 1);
    await add('webhook:down', 20);
    const r = relay();
    const failed: string[] = [];
    r.on('failed', (m) => failed.push(m.destination));
    r.start();
    await waitFor(
      async () => (await count(`status = 'dead' and destination = 'webhook:bad'`)) === 40,
      '400s dead',
      10_000,
    );
    await waitFor(
      async () => (await breakerOf('webhook:down')) !== 'closed',
      'the 503 destination to open',
      10_000,
    );
    const list = await listDestinations(t.db, { schema: t.schema });
    expect(list.find((d) => d.name === 'webhook:bad')).toBeUndefined();
    expect(list.find((d) => d.name === 'webhook:gone')).toMatchObject({ paused: true, breaker: 'closed' });
    // The 410 is counted as a failed attempt (counters, `failed` event, the failed metric).
    expect(failed).toContain('webhook:gone');
    expect(r.counters().retried).toBeGreaterThanOrEqual(1 + 10);
  });

  it('resume closes an open breaker and sends everything; retry now makes its probe due at once', async () => {
    receiver.respond(reply.status(503));
    await add('webhook:acme', 40);
    const r = relay({ breaker: { probeMs: 60_000, probeMaxMs: 60_000, windowMs: 5_000 } });
    r.start();
    await waitFor(async () => (await breakerOf('webhook:acme')) === 'open', 'the breaker to open', 10_000);
    await sleep(300);
    const before = receiver.requests.length;
    expect(await retryDestinationNow(t.db, 'webhook:acme', { schema: t.schema })).toEqual({
      destination: 'webhook:acme',
      released: 0,
      probe: true,
    });
    await receiver.waitForRequests(before + 1, 3_000); // the probe, long before its 60 s
    await sleep(700);
    expect(receiver.requests.length).toBe(before + 1);
    expect(await breakerOf('webhook:acme')).toBe('open');

    receiver.respond(reply.ok());
    expect(await resumeDestination(t.db, 'webhook:acme', { schema: t.schema })).toMatchObject({
      resumed: true,
    });
    await waitFor(async () => (await count(`status = 'delivered'`)) === 40, 'the drain after resume', 5_000);
    expect(await count(`status = 'dead'`)).toBe(0);
  });

  it('an unreachable router opens its routeros:<device> destination instead of timing out every command', async () => {
    const closed = net.createServer();
    await new Promise<void>((ok) => closed.listen(0, '127.0.0.1', ok));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((ok) => closed.close(() => ok())); // nothing listens there now
    const routeros = new RouterOsPublisher({
      devices: new StaticDeviceResolver([
        { name: 'tower-9', host: '127.0.0.1', port, username: 'api', password: 'pw' },
      ]),
      connectTimeoutMs: 300,
      commandTimeoutMs: 300,
    });
    const r = createRelay({
      db: t.db,
      schema: t.schema,
      publishers: { routeros },
      logger: NOOP_LOGGER,
      pollIntervalMs: 20,
      retry: { baseDelayMs: 10, factor: 1.2, maxDelayMs: 50, jitter: 0 },
      breaker: { probeMs: PROBE_MS, probeMaxMs: PROBE_MS, windowMs: 5_000 },
    });
    cleanups.push(() => r.stop());
    const outbox = createOutbox({ schema: t.schema });
    for (let i = 0; i < 20; i++)
      await outbox.addCommand(t.db, {
        device: 'tower-9',
        action: 'pppoe.suspend',
        params: { name: `c${i}` },
      });
    r.start();
    await waitFor(
      async () => (await breakerOf('routeros:tower-9')) !== 'closed',
      'routeros:tower-9 to open',
      10_000,
    );
    const attempts = async () => {
      const { rows } = await t.pool.query<{ n: number }>(
        `select coalesce(sum(attempts), 0)::int as n from "${t.schema}".all_messages`,
      );
      return rows[0]!.n;
    };
    await sleep(300);
    const atOpen = await attempts();
    await sleep(2_000);
    // One probe per look at most (500 ms): not one attempt every 10-50 ms.
    expect((await attempts()) - atOpen).toBeLessThanOrEqual(5);
    expect(await count(`status = 'dead'`)).toBe(0);
  });
});

describe('breaker options', () => {
  it('defaults to the documented numbers and names a bad field', () => {
    expect(resolveBreakerOptions(undefined)).toEqual({
      enabled: true,
      minAttempts: 10,
      windowMs: 30_000,
      failureRatio: 0.9,
      probeMs: 5_000,
      probeMaxMs: 300_000,
    });
    expect(() => resolveBreakerOptions({ failureRatio: 1.5 })).toThrow(/breaker.failureRatio/);
    expect(() => resolveBreakerOptions({ probeMs: 1_000, probeMaxMs: 500 })).toThrow(/breaker.probeMaxMs/);
  });
});
