import net from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listAttempts } from '../../src/core/maintenance/attempts.js';
import { cleanupDelivered } from '../../src/core/maintenance/cleanup-delivered.js';
import { replayDead } from '../../src/core/maintenance/dead-letters.js';
import { getMessageStory } from '../../src/core/maintenance/message-story.js';
import { TransientPublishError } from '../../src/core/foundation/errors.js';
import { NOOP_LOGGER } from '../../src/core/foundation/logger.js';
import { sqlRunner } from '../../src/core/foundation/queryable.js';
import { OutboxStore } from '../../src/core/store/index.js';
import { createOutbox } from '../../src/core/producer/outbox.js';
import type { AttemptLogMode } from '../../src/core/relay/attempt-record.js';
import { createRelay, type RelayOptions } from '../../src/core/relay/relay.js';
import { WebhookPublisher } from '../../src/publishers/webhook/webhook-publisher.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { RecordingPublisher } from '../support/recording-publisher.js';
import { reply, startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

let t: TestDatabase;
let receiver: WebhookReceiver;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.close());
beforeEach(async () => {
  await t.pool.query(
    `truncate "${t.schema}".messages, "${t.schema}".messages_archive, "${t.schema}".attempts`,
  );
  receiver = await startWebhookReceiver();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await receiver.close();
});

const outbox = () => createOutbox({ schema: t.schema });

function webhook(url = `${receiver.url}/hooks`): WebhookPublisher {
  const publisher = new WebhookPublisher({
    url,
    secrets: [SECRET],
    allowPrivateNetworks: true,
    timeoutMs: 5_000,
  });
  cleanups.push(() => publisher.close());
  return publisher;
}

function relayFor(publishers: RelayOptions['publishers'], extra: Partial<RelayOptions> = {}) {
  const relay = createRelay({
    db: t.db,
    schema: t.schema,
    publishers,
    logger: NOOP_LOGGER,
    workerId: 'relay-a',
    retry: { baseDelayMs: 1, factor: 1, maxDelayMs: 1, jitter: 0 },
    ...extra,
  });
  cleanups.push(() => relay.stop());
  return relay;
}

/** Runs rounds until nothing is left to claim (retries are due after 1 ms). */
async function drain(relay: ReturnType<typeof createRelay>): Promise<void> {
  for (let round = 0; round < 50; round++) {
    const { rows } = await t.pool.query<{ n: number }>(
      `select count(*)::int as n from "${t.schema}".messages where delivered_at is null and dead_at is null`,
    );
    if (rows[0]!.n === 0) return;
    await relay.runOnce();
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error('the relay did not finish in 50 rounds');
}

/** A receiver that answers 503 (body "busy") to the first request for a message, then 200; 400 for payload n: 2. */
function busyThenOk(): void {
  const seen = new Set<string>();
  receiver.respond((request) => {
    if (JSON.parse(request.body).n === 2) return reply.status(400, 'no such customer');
    if (request.id && !seen.has(request.id)) {
      seen.add(request.id);
      return reply.status(503, 'busy');
    }
    return reply.ok();
  });
}

async function runWith(
  mode: AttemptLogMode | undefined,
  extra: Partial<RelayOptions> = {},
): Promise<{ good: string; bad: string }> {
  const o = outbox();
  const good = await o.add(t.db, { type: 'good', destination: 'webhook', payload: { n: 1 } });
  const bad = await o.add(t.db, { type: 'bad', destination: 'webhook', payload: { n: 2 } });
  busyThenOk();
  await drain(
    relayFor({ webhook: webhook() }, { ...(mode === undefined ? {} : { attemptLog: mode }), ...extra }),
  );
  return { good, bad };
}

describe('the attempt log', () => {
  it('records only failed attempts by default (failures), with status, error code, body and relay', async () => {
    // On a pg Pool: the write-backs run as named prepared statements, as in the binary.
    const { good, bad } = await runWith(undefined, { db: t.pool });
    const goodLog = await listAttempts(t.db, { schema: t.schema, messageId: good });
    expect(goodLog).toEqual([
      expect.objectContaining({
        messageId: good,
        destination: 'webhook',
        attempt: 1,
        outcome: 'transient',
        statusCode: 503,
        errorCode: 'PUBLISH_TRANSIENT',
        workerId: 'relay-a',
      }),
    ]);
    expect(goodLog[0]!.detail).toContain('busy');
    expect(goodLog[0]!.durationMs).toBeGreaterThan(0);
    expect(goodLog[0]!.startedAt.getTime()).toBeLessThanOrEqual(goodLog[0]!.at.getTime());
    const badLog = await listAttempts(t.db, { schema: t.schema, messageId: bad });
    expect(badLog).toEqual([
      expect.objectContaining({
        attempt: 1,
        outcome: 'permanent',
        statusCode: 400,
        errorCode: 'PUBLISH_PERMANENT',
      }),
    ]);
    expect(badLog[0]!.detail).toContain('no such customer');
  });

  it('records delivered attempts too with ATTEMPT_LOG=all', async () => {
    const { good } = await runWith('all', { db: t.pool });
    const log = await listAttempts(t.db, { schema: t.schema, messageId: good });
    expect(log.map((a) => [a.attempt, a.outcome, a.statusCode])).toEqual([
      [1, 'transient', 503],
      [2, 'delivered', 200],
    ]);
    expect(log[1]).toMatchObject({ errorCode: null, detail: null, workerId: 'relay-a' });
  });

  it('records nothing with ATTEMPT_LOG=off', async () => {
    await runWith('off');
    const { rows } = await t.pool.query(`select * from "${t.schema}".attempts`);
    expect(rows).toEqual([]);
  });

  it('keeps the first kilobyte of a long response body', async () => {
    await outbox().add(t.db, { type: 'x', destination: 'webhook', payload: 1 });
    receiver.respond(reply.status(500, 'e'.repeat(10_000)));
    await relayFor({ webhook: webhook() }, { maxAttempts: 1 }).runOnce();
    const [attempt] = await listAttempts(t.db, { schema: t.schema });
    expect(Buffer.byteLength(attempt!.detail!)).toBeLessThanOrEqual(1024);
    expect(attempt!.detail).toContain('eeee');
  });

  it('records the network error code of a receiver that refuses connections', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const m = await outbox().add(t.db, { type: 'x', destination: 'webhook', payload: 1 });
    await relayFor({ webhook: webhook(`http://127.0.0.1:${port}/x`) }).runOnce();
    const [attempt] = await listAttempts(t.db, { schema: t.schema, messageId: m });
    expect(attempt).toMatchObject({ outcome: 'transient', statusCode: null, errorCode: 'ECONNREFUSED' });
  });

  it('records a failure whose row another relay took meanwhile as lease_lost', async () => {
    const m = await outbox().add(t.db, { type: 'x', destination: 'default', payload: 1 });
    const publisher = new RecordingPublisher('p', async () => {
      // Another relay took the row over (its lease expired, say) while this attempt ran.
      await t.pool.query(`update "${t.schema}".messages set locked_by = 'relay-b'`);
      throw new TransientPublishError('too slow');
    });
    await relayFor({ default: publisher }).runOnce();
    const [attempt] = await listAttempts(t.db, { schema: t.schema, messageId: m });
    expect(attempt).toMatchObject({
      outcome: 'lease_lost',
      workerId: 'relay-a',
      detail: expect.stringContaining('too slow'),
    });
    const { rows } = await t.pool.query(`select locked_by, last_error from "${t.schema}".messages`);
    expect(rows).toEqual([{ locked_by: 'relay-b', last_error: null }]);
  });

  it('lists by destination (newest first), since and limit', async () => {
    const failing = new RecordingPublisher('p', () => {
      throw new TransientPublishError('down');
    });
    const o = outbox();
    await o.addMany(t.db, [
      { type: 'a', destination: 'one', payload: 1 },
      { type: 'b', destination: 'one', payload: 2 },
      { type: 'c', destination: 'two', payload: 3 },
    ]);
    await relayFor({ one: failing, two: failing }).runOnce();
    await t.pool.query(
      `update "${t.schema}".attempts set at = now() - interval '2 hours' where message_id =
         (select message_id from "${t.schema}".messages where type = 'a')`,
    );
    const one = await listAttempts(t.db, { schema: t.schema, destination: 'one' });
    expect(one.map((a) => a.destination)).toEqual(['one', 'one']);
    expect(one[0]!.at.getTime()).toBeGreaterThan(one[1]!.at.getTime());
    const recent = await listAttempts(t.db, {
      schema: t.schema,
      destination: 'one',
      since: new Date(Date.now() - 3_600_000),
    });
    expect(recent).toHaveLength(1);
    expect(await listAttempts(t.db, { schema: t.schema, limit: 2 })).toHaveLength(2);
    expect(await listAttempts(t.db, { schema: t.schema })).toHaveLength(3);
    await expect(listAttempts(t.db, { schema: t.schema, messageId: 'nope' })).rejects.toThrow(/messageId/);
  });

  it('is cleaned up with delivered messages: attempts older than the retention go, in batches', async () => {
    const failing = new RecordingPublisher('p', () => {
      throw new TransientPublishError('down');
    });
    await outbox().addMany(
      t.db,
      Array.from({ length: 5 }, (_, i) => ({ type: 'x', destination: 'default', payload: i })),
    );
    await relayFor({ default: failing }).runOnce();
    await t.pool.query(
      `update "${t.schema}".attempts set at = now() - interval '40 days'
        where message_row_id in (select id from "${t.schema}".messages order by id limit 3)`,
    );
    const result = await cleanupDelivered(t.db, { schema: t.schema, olderThanDays: 30, batchSize: 2 });
    expect(result.attemptsDeleted).toBe(3);
    expect(await listAttempts(t.db, { schema: t.schema })).toHaveLength(2);
  });

  it('cleanup deletes through attempts_at_idx, never a sequential scan', async () => {
    // An empty table makes a seq scan the cheapest plan; with seq scans priced out, the plan
    // shows the index path the cleanup's batch has on a big table.
    const client = await t.pool.connect();
    try {
      await client.query('begin');
      await client.query('set local enable_seqscan = off');
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(
        `explain select ctid from "${t.schema}".attempts
          where at < now() - interval '30 days' and at >= '-infinity' order by at limit 5000`,
      );
      const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(plan).toMatch(/Index Scan (using|on) attempts_at_idx/);
      expect(plan).not.toMatch(/Seq Scan/);
    } finally {
      await client.query('rollback');
      client.release();
    }
  });
});

describe('a message story', () => {
  it('tells a dead, replayed and then delivered message: every attempt, the replay, and where it is', async () => {
    const m = await outbox().add(t.db, {
      type: 'x',
      destination: 'webhook',
      payload: 1,
      headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    });
    receiver.respond(reply.status(422, 'bad field'));
    const relay = relayFor({ webhook: webhook() }, { attemptLog: 'all' });
    await relay.runOnce();
    const dead = await getMessageStory(t.db, m, { schema: t.schema });
    expect(dead?.state).toMatchObject({ kind: 'dead', reason: 'permanent' });
    expect(dead?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');

    expect(await replayDead(t.db, { messageIds: [m] }, { schema: t.schema })).toEqual({ replayed: 1 });
    receiver.respond(reply.ok());
    await relay.runOnce();
    const story = await getMessageStory(t.db, m, { schema: t.schema });
    expect(story?.message).toMatchObject({ messageId: m, type: 'x', destination: 'webhook' });
    expect(story?.state.kind).toBe('delivered');
    expect(story?.attempts.map((a) => [a.attempt, a.outcome, a.statusCode])).toEqual([
      [1, 'permanent', 422],
      [0, 'replayed', null],
      [1, 'delivered', 200],
    ]);
    expect(story!.attempts[1]!.detail).toMatch(/^was dead after 1 attempts \(permanent\): .*bad field/);
    // By row id too.
    expect((await getMessageStory(t.db, story!.message.id, { schema: t.schema }))?.message.messageId).toBe(m);
    expect(
      await getMessageStory(t.db, '00000000-0000-7000-8000-000000000000', { schema: t.schema }),
    ).toBeUndefined();
  });

  it('says a keyed message waits behind its key head, and a leased one is in flight on its relay', async () => {
    const o = outbox();
    const head = await o.add(t.db, { type: 'x', destination: 'default', orderingKey: 'k', payload: 1 });
    const next = await o.add(t.db, { type: 'x', destination: 'default', orderingKey: 'k', payload: 2 });
    const waiting = await getMessageStory(t.db, next, { schema: t.schema });
    expect(waiting?.state).toMatchObject({ kind: 'blocked', key: 'k', behindMessageId: head });
    const headStory = await getMessageStory(t.db, head, { schema: t.schema });
    expect(headStory?.state.kind).toBe('waiting');
    await t.pool.query(
      `update "${t.schema}".messages set status = 'in_flight', locked_by = 'relay-r', locked_until = now() + interval '1 minute'
        where message_id = $1`,
      [head],
    );
    const inFlight = await getMessageStory(t.db, head, { schema: t.schema });
    expect(inFlight?.state).toMatchObject({ kind: 'in_flight', workerId: 'relay-r' });
    expect(inFlight?.traceId).toBeNull();
  });
});

describe('migration 8', () => {
  it('lets relays built for migration 7 keep claiming after it: they simply log nothing', async () => {
    const { rows } = await t.pool.query(
      `select version, relays_from from "${t.schema}".migrations where version in (7, 8) order by version`,
    );
    expect(rows).toEqual([
      { version: 7, relays_from: 7 },
      { version: 8, relays_from: 7 },
    ]);
    await outbox().add(t.db, { type: 'x', destination: 'default', payload: 1 });
    const built7 = new OutboxStore(t.schema, { fenceVersion: 7 });
    const claimed = await built7.claim(sqlRunner(t.pool), { leaseMs: 60_000, limit: 10, workerId: 'old' });
    expect(claimed).toHaveLength(1);
  });
});
