// Issue 22 items 3 and 4: a 410 Gone pauses the destination in the database, operators pause,
// resume and "retry now" a destination, and every relay sharing the table obeys. Two relays in
// this process here (each claims on its own connection pool); test/e2e/destinations.test.ts
// runs the same promises with real processes and the CLI.
import { describe, expect, it } from 'vitest';
import { NOOP_LOGGER } from '../../src/core/foundation/logger.js';
import {
  listDestinations,
  pauseDestination,
  resumeDestination,
  retryDestinationNow,
} from '../../src/core/maintenance/index.js';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { createRelay, type Relay, type RelayOptions } from '../../src/core/relay/relay.js';
import type { DestinationPauseInfo } from '../../src/core/relay/index.js';
import { WebhookPublisher } from '../../src/publishers/webhook/webhook-publisher.js';
import type { TestDatabase } from '../support/database.js';
import { destinationTestBed } from '../support/destination-test-bed.js';
import { waitFor } from '../support/recording-publisher.js';
import { reply, startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

let t: TestDatabase;
let receiver: WebhookReceiver;

const cleanups = destinationTestBed({
  tables: ['destinations'],
  startReceiver: startWebhookReceiver,
  use: (db, r) => {
    t = db;
    if (r) receiver = r;
  },
});

/** A relay sending `webhook` (and `webhook:*`) destinations to the receiver, path = destination. */
function relay(extra: Partial<RelayOptions> = {}): Relay {
  const webhook = new WebhookPublisher({
    url: `${receiver.url}/hooks`,
    urls: { acme: `${receiver.url}/acme`, other: `${receiver.url}/other` },
    secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    allowPrivateNetworks: true,
  });
  const r = createRelay({
    db: t.db,
    schema: t.schema,
    publishers: { webhook },
    logger: NOOP_LOGGER,
    pollIntervalMs: 20,
    retry: { baseDelayMs: 5, factor: 1.5, maxDelayMs: 40, jitter: 0 },
    ...extra,
  });
  cleanups.push(async () => {
    await r.stop();
    await webhook.close();
  });
  return r;
}

const outbox = () => createOutbox({ schema: t.schema });
const add = (destination: string, n: number, orderingKey?: string) =>
  outbox().addMany(
    t.db,
    Array.from({ length: n }, (_, i) => ({
      type: 'invoice.paid',
      destination,
      payload: { i },
      ...(orderingKey ? { orderingKey } : {}),
    })),
  );

async function count(where: string): Promise<number> {
  const { rows } = await t.pool.query<{ n: number }>(
    `select count(*)::int as n from "${t.schema}".all_messages where ${where}`,
  );
  return rows[0]!.n;
}
const sentTo = (path: string) => receiver.requests.filter((r) => r.path === path);
const settle = () => new Promise((r) => setTimeout(r, 600));

describe('410 Gone', () => {
  it('pauses the destination in the database for every relay, keeps the message waiting, and resume sends it', async () => {
    const a = relay();
    const b = relay();
    const events: DestinationPauseInfo[] = [];
    const resumed: string[] = [];
    for (const r of [a, b]) {
      r.on('destination.paused', (info) => events.push(info));
      r.on('destination.resumed', (info) => resumed.push(info.destination));
    }
    receiver.respond((req) => (req.path === '/acme' ? reply.gone() : reply.ok()));
    await add('webhook:acme', 1);
    expect(await a.runOnce()).toMatchObject({ claimed: 1, dead: 0 });
    const [gone] = await listDestinations(t.db, { schema: t.schema, pausedOnly: true });
    expect(gone).toMatchObject({
      name: 'webhook:acme',
      paused: true,
      pausedReason: 'gone',
      pausedUntil: null,
    });
    expect(await count(`status = 'pending' and destination = 'webhook:acme'`)).toBe(1);
    expect(events[0]).toMatchObject({ destination: 'webhook:acme', reason: 'gone', until: null });

    // The other relay sends nothing to it, however many messages arrive; other destinations flow.
    receiver.respond(reply.ok());
    await add('webhook:acme', 20);
    await add('webhook:other', 5);
    a.start();
    b.start();
    await waitFor(async () => (await count(`status = 'delivered'`)) === 5, 'other destination delivered');
    await settle();
    expect(sentTo('/acme')).toHaveLength(1);
    expect(sentTo('/other')).toHaveLength(5);
    await waitFor(
      async () => (await count(`destination = 'webhook:acme' and available_at = 'infinity'`)) === 21,
      'rows added while paused held out of the claim index',
    );
    await waitFor(
      () => events.filter((e) => e.destination === 'webhook:acme').length >= 2,
      'both relays saw it',
    );

    expect(await resumeDestination(t.db, 'webhook:acme', { schema: t.schema })).toEqual({
      destination: 'webhook:acme',
      resumed: true,
      released: 21,
    });
    await waitFor(async () => (await count(`status = 'delivered'`)) === 26, 'all delivered after resume');
    expect(sentTo('/acme')).toHaveLength(22);
    await waitFor(
      () => resumed.filter((d) => d === 'webhook:acme').length === 2,
      'both relays saw the resume',
    );
  });

  it('a replayed dead message is not refused by a process-local disable any more', async () => {
    receiver.respond(reply.gone());
    const r = relay();
    await add('webhook', 1);
    await r.runOnce();
    receiver.respond(reply.ok());
    await resumeDestination(t.db, 'webhook', { schema: t.schema });
    expect(await r.runOnce()).toMatchObject({ claimed: 1, delivered: 1 });
  });
});

describe('pause and resume', () => {
  it('sends nothing while paused, keeps everything, and resume delivers in per-key order', async () => {
    await add('webhook:acme', 30, 'k1');
    await add('webhook:acme', 30);
    const paused = await pauseDestination(t.db, 'webhook:acme', { schema: t.schema, reason: 'maintenance' });
    expect(paused).toEqual({ destination: 'webhook:acme', held: 60, until: null });
    const a = relay();
    const b = relay();
    a.start();
    b.start();
    await add('webhook:acme', 10, 'k1');
    await add('webhook:other', 3);
    await waitFor(async () => (await count(`status = 'delivered'`)) === 3, 'other destination delivered');
    await settle();
    expect(sentTo('/acme')).toHaveLength(0);
    expect(await count(`destination = 'webhook:acme' and status = 'pending'`)).toBe(70);

    expect((await resumeDestination(t.db, 'webhook:acme', { schema: t.schema })).resumed).toBe(true);
    await waitFor(async () => (await count(`status = 'delivered'`)) === 73, 'all delivered');
    const k1 = receiver.requests.filter((r) => r.path === '/acme').map((r) => r.id!);
    const { rows } = await t.pool.query<{ message_id: string }>(
      `select message_id from "${t.schema}".all_messages where ordering_key = 'k1' order by id`,
    );
    expect(k1.filter((id) => rows.some((r) => r.message_id === id))).toEqual(rows.map((r) => r.message_id));
  });

  it('a pause until a time ends by itself, fleet-wide, and its held messages become due', async () => {
    await add('webhook:acme', 5);
    const until = new Date(Date.now() + 1500);
    await pauseDestination(t.db, 'webhook:acme', { schema: t.schema, until, reason: 'deploy' });
    expect((await listDestinations(t.db, { schema: t.schema }))[0]).toMatchObject({
      paused: true,
      pausedUntil: until,
      pausedReason: 'deploy',
    });
    const r = relay();
    r.start();
    await settle();
    expect(sentTo('/acme')).toHaveLength(0);
    await waitFor(async () => (await count(`status = 'delivered'`)) === 5, 'delivered after the pause ended');
    expect(Math.min(...sentTo('/acme').map((x) => x.receivedAt))).toBeGreaterThanOrEqual(
      until.getTime() - 50,
    );
  });

  it('retry now makes messages waiting on a backoff due at once, and refuses a paused destination', async () => {
    receiver.respond(reply.tooManyRequests('3600'));
    await add('webhook:acme', 3);
    const r = relay({ retry: { baseDelayMs: 5, factor: 1.5, maxDelayMs: 7_200_000, jitter: 0 } });
    expect(await r.runOnce()).toMatchObject({ claimed: 3, retried: 3 });
    receiver.respond(reply.ok());
    expect(await r.runOnce()).toMatchObject({ claimed: 0 });
    expect(await retryDestinationNow(t.db, 'webhook:acme', { schema: t.schema })).toEqual({
      destination: 'webhook:acme',
      released: 3,
      probe: false,
    });
    expect(await r.runOnce()).toMatchObject({ claimed: 3, delivered: 3 });

    await pauseDestination(t.db, 'webhook:other', { schema: t.schema });
    await expect(retryDestinationNow(t.db, 'webhook:other', { schema: t.schema })).rejects.toMatchObject({
      code: 'DESTINATION_PAUSED',
    });
  });
});
