import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NOOP_LOGGER } from '../../src/core/foundation/logger.js';
import { resumeDestination } from '../../src/core/maintenance/index.js';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { createRelay, type RelayOptions } from '../../src/core/relay/relay.js';
import type { WebhookPublisherOptions } from '../../src/publishers/webhook/webhook-options.js';
import { WebhookPublisher } from '../../src/publishers/webhook/webhook-publisher.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { ManualClock, waitFor } from '../support/recording-publisher.js';
import { flaky, reply, startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

let t: TestDatabase;
let receiver: WebhookReceiver;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  t = await createTestDatabase({ poolSize: 20 });
});
afterAll(() => t.close());
beforeEach(async () => {
  await t.pool.query(
    `truncate "${t.schema}".messages, "${t.schema}".messages_archive, "${t.schema}".destinations`,
  );
  // Timestamps may come from a fake clock far from now: verify signatures, not freshness, here.
  receiver = await startWebhookReceiver({ secrets: [SECRET], toleranceSeconds: 10 ** 10 });
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await receiver.close();
});

const outbox = () => createOutbox({ schema: t.schema });

function webhook(options: Partial<WebhookPublisherOptions> = {}): WebhookPublisher {
  const publisher = new WebhookPublisher({
    url: `${receiver.url}/hooks`,
    secrets: [SECRET],
    allowPrivateNetworks: true,
    ...options,
  });
  cleanups.push(() => publisher.close());
  return publisher;
}

function relayFor(publisher: WebhookPublisher, extra: Partial<RelayOptions> = {}) {
  const relay = createRelay({
    db: t.db,
    schema: t.schema,
    publishers: { webhook: publisher },
    logger: NOOP_LOGGER,
    pollIntervalMs: 5,
    retry: { baseDelayMs: 5, factor: 1.5, maxDelayMs: 40, jitter: 0 },
    ...extra,
  });
  cleanups.push(() => relay.stop());
  return relay;
}

interface Row {
  message_id: string;
  status: string;
  attempts: number;
  available_at: Date;
  last_error: string | null;
  result: unknown;
  payload_text: string;
}

async function rows(): Promise<Row[]> {
  const { rows } = await t.pool.query<Row>(
    `select message_id, status, attempts, available_at, last_error, result, payload::text as payload_text
       from "${t.schema}".all_messages order by id`,
  );
  return rows;
}

async function countByStatus(status: string): Promise<number> {
  const { rows } = await t.pool.query<{ n: number }>(
    `select count(*)::int as n from "${t.schema}".all_messages where status = $1`,
    [status],
  );
  return rows[0]!.n;
}

const events = (n: number, destination = 'webhook') =>
  Array.from({ length: n }, (_, i) => ({
    type: 'invoice.paid',
    destination,
    payload: { invoice: `inv_${i}`, amount: i * 1.5, note: 'Zoë ✓' },
  }));

describe('webhook delivery through the relay', () => {
  it('delivers 500 events to a healthy receiver exactly once each, signed, body as stored', async () => {
    await outbox().addMany(t.db, events(500));
    const relay = relayFor(webhook());
    relay.start();
    await waitFor(async () => (await countByStatus('delivered')) === 500, '500 delivered rows');
    await relay.stop();

    const stored = await rows();
    const deliveries = receiver.deliveries();
    expect(receiver.requests).toHaveLength(500);
    expect(deliveries.size).toBe(500);
    expect([...deliveries.values()].every((n) => n === 1)).toBe(true);
    expect(receiver.requests.every((r) => r.verified)).toBe(true);
    const byId = receiver.byId();
    for (const row of stored) {
      const [request] = byId.get(row.message_id)!;
      expect(request!.body).toBe(row.payload_text);
      expect(row.result).toEqual({ status: 200 });
    }
  });

  it('delivers every event from a receiver failing half its requests, same webhook-id, fresh timestamp per attempt', async () => {
    await outbox().addMany(t.db, events(150));
    receiver.respond(flaky({ ratio: 0.5, seed: 7 }));
    // Each attempt reads a later second, so "fresh per attempt" is visible within one test run.
    let ticks = 0;
    const clock = { now: () => new Date(Date.now() + ticks++ * 1000) };
    // 1 s, not less: on a loaded 2-core box a 200 answered after a shorter deadline reads as a timeout and is sent again.
    const relay = relayFor(webhook({ timeoutMs: 1000, clock }));
    relay.start();
    await waitFor(async () => (await countByStatus('delivered')) === 150, '150 delivered rows', 60_000);
    await relay.stop();

    const kinds = new Set(
      receiver.requests.map((r) => (r.reply.kind === 'status' ? r.reply.status : r.reply.kind)),
    );
    expect(kinds).toEqual(new Set([200, 500, 'timeout', 'reset']));
    const byId = receiver.byId();
    const stored = await rows();
    expect(byId.size).toBe(150);
    let retried = 0;
    for (const row of stored) {
      const attempts = byId.get(row.message_id)!;
      // Every attempt carried the row's message_id; exactly one was answered 2xx.
      expect(attempts.filter((a) => a.reply.kind === 'status' && a.reply.status === 200)).toHaveLength(1);
      expect(attempts.at(-1)!.reply).toEqual(reply.ok());
      expect(attempts.length).toBe(row.attempts);
      const stamps = attempts.map((a) => a.timestamp!);
      for (let i = 1; i < stamps.length; i++) expect(stamps[i]!).toBeGreaterThan(stamps[i - 1]!);
      expect(attempts.every((a) => a.verified)).toBe(true);
      if (attempts.length > 1) retried++;
    }
    expect(retried).toBeGreaterThan(30);
  });

  it('on 410 keeps the message waiting, pauses its destination for later messages, and sends them all once resumed', async () => {
    const publisher = webhook({ url: `${receiver.url}/gone` });
    const relay = relayFor(publisher);
    receiver.respond(reply.gone());
    await outbox().add(t.db, events(1)[0]!);
    expect(await relay.runOnce()).toMatchObject({ claimed: 1, dead: 0 });
    expect((await rows())[0]).toMatchObject({ status: 'pending' });
    expect((await rows())[0]!.last_error).toMatch(
      /answered 410 Gone at attempt 1: the destination is paused/,
    );

    receiver.respond(reply.ok());
    await outbox().addMany(t.db, events(2));
    expect(await relay.runOnce()).toMatchObject({ claimed: 0 });
    expect(receiver.requests).toHaveLength(1);

    expect(await resumeDestination(t.db, 'webhook', { schema: t.schema })).toMatchObject({ resumed: true });
    expect(await relay.runOnce()).toMatchObject({ claimed: 3, delivered: 3 });
  });

  it('schedules the retry of a 429 exactly Retry-After later on the injected clock', async () => {
    // Whole seconds and ahead of the database's now(), so freshly added rows are due.
    const clock = new ManualClock(Math.ceil(Date.now() / 1000) * 1000 + 60_000);
    const start = clock.now().getTime();
    const relay = relayFor(webhook({ clock }), { clock });
    receiver.respond(reply.tooManyRequests('120'));
    await outbox().add(t.db, events(1)[0]!);
    expect(await relay.runOnce()).toMatchObject({ claimed: 1, retried: 1 });
    const [row] = await rows();
    expect(row!.available_at.getTime()).toBe(start + 120_000);
    expect(row!.last_error).toMatch(/answered 429, retry after 120s/);

    clock.advance(119_000);
    expect(await relay.runOnce()).toMatchObject({ claimed: 0 });

    // An HTTP-date works the same way.
    clock.advance(1_000);
    receiver.respond(
      reply.status(503, 'busy', { 'retry-after': new Date(clock.now().getTime() + 90_000).toUTCString() }),
    );
    expect(await relay.runOnce()).toMatchObject({ claimed: 1, retried: 1 });
    expect((await rows())[0]!.available_at.getTime()).toBe(start + 120_000 + 90_000);

    clock.advance(90_000);
    receiver.respond(reply.ok());
    expect(await relay.runOnce()).toMatchObject({ claimed: 1, delivered: 1 });
    expect(receiver.requests.map((r) => r.timestamp! * 1000 - start)).toEqual([0, 120_000, 210_000]);
    expect(new Set(receiver.requests.map((r) => r.id)).size).toBe(1);
  });

  it('dead-letters a redirect without following it', async () => {
    receiver.respond((r) =>
      r.path === '/hooks' ? reply.redirect(`${receiver.url}/moved`, 301) : reply.ok(),
    );
    const relay = relayFor(webhook());
    await outbox().add(t.db, events(1)[0]!);
    expect(await relay.runOnce()).toMatchObject({ claimed: 1, dead: 1 });
    expect((await rows())[0]!.last_error).toMatch(/301 redirect to .*\/moved; redirects are not followed/);
    expect(receiver.requests.map((r) => r.path)).toEqual(['/hooks']);
  });

  it('dead-letters a message to a private address when the SSRF guard is on (the default)', async () => {
    const relay = relayFor(webhook({ allowPrivateNetworks: false }));
    await outbox().add(t.db, events(1)[0]!);
    expect(await relay.runOnce()).toMatchObject({ claimed: 1, dead: 1 });
    expect((await rows())[0]!.last_error).toMatch(/SSRF guard refused 127\.0\.0\.1: loopback address/);
    expect(receiver.requests).toHaveLength(0);
  });

  it("routes webhook:<tenant> destinations to each tenant's URL", async () => {
    const relay = relayFor(
      webhook({ url: undefined, urls: { acme: `${receiver.url}/acme`, globex: `${receiver.url}/globex` } }),
    );
    await outbox().addMany(t.db, [...events(2, 'webhook:acme'), ...events(1, 'webhook:globex')]);
    expect(await relay.runOnce()).toMatchObject({ claimed: 3, delivered: 3 });
    expect(receiver.requests.map((r) => r.path).sort()).toEqual(['/acme', '/acme', '/globex']);
  });
});
