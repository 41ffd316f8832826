import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PermanentPublishError, TransientPublishError } from '../../src/core/foundation/errors.js';
import { NOOP_LOGGER } from '../../src/core/foundation/logger.js';
import { createOutbox } from '../../src/core/producer/outbox.js';
import type { Queryable } from '../../src/core/foundation/queryable.js';
import { createRelay, type RelayOptions } from '../../src/core/relay/relay.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { ManualClock, RecordingPublisher, waitFor } from '../support/recording-publisher.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase({ poolSize: 20 });
});
afterAll(() => t.close());
beforeEach(async () => {
  await t.pool.query(`truncate "${t.schema}".messages, "${t.schema}".messages_archive`);
});

function relayFor(publishers: RelayOptions['publishers'], extra: Partial<RelayOptions> = {}) {
  return createRelay({
    db: t.db,
    schema: t.schema,
    publishers,
    logger: NOOP_LOGGER,
    pollIntervalMs: 5,
    ...extra,
  });
}

async function statusRows() {
  const { rows } = await t.pool.query(
    `select id, message_id, status, attempts, available_at, locked_by, locked_until, last_error, result, dead_reason
       from "${t.schema}".all_messages order by id`,
  );
  return rows;
}

const outbox = () => createOutbox({ schema: t.schema });

describe('claiming', () => {
  it('leases claimed rows to the worker and holds no transaction while publishing', async () => {
    await outbox().addMany(t.db, [
      { type: 'a', payload: 1 },
      { type: 'a', payload: 2 },
    ]);
    const clock = new ManualClock();
    const seen: unknown[] = [];
    const pub = new RecordingPublisher('p', async (m) => {
      const [row] = (
        await t.pool.query(
          `select status, locked_by, locked_until, attempts from "${t.schema}".all_messages where id = $1`,
          [m.id],
        )
      ).rows;
      seen.push(row);
      // NOWAIT fails at once if any transaction still held the row lock.
      await t.pool.query(
        `begin; select 1 from "${t.schema}".messages where id = ${Number(m.id)} for update nowait; rollback;`,
      );
    });
    const relay = relayFor({ default: pub }, { clock, leaseMs: 30_000, workerId: 'w-1' });
    expect(await relay.runOnce()).toEqual({ claimed: 2, delivered: 2, retried: 0, dead: 0 });
    expect(seen).toEqual([
      {
        status: 'in_flight',
        locked_by: 'w-1',
        locked_until: new Date(clock.now().getTime() + 30_000),
        attempts: 1,
      },
      {
        status: 'in_flight',
        locked_by: 'w-1',
        locked_until: new Date(clock.now().getTime() + 30_000),
        attempts: 1,
      },
    ]);
    expect((await statusRows()).map((r) => [r.status, r.locked_by])).toEqual([
      ['delivered', null],
      ['delivered', null],
    ]);
  });

  it('claims at most batchSize rows per round and writes results back in batched statements', async () => {
    await outbox().addMany(
      t.db,
      Array.from({ length: 250 }, (_, i) => ({ type: 'a', payload: i })),
    );
    let writeBacks = 0;
    const counting: Queryable = {
      query: (text: string, values: unknown[]) => {
        if (text.includes(`set status = 'delivered'`)) writeBacks++;
        return t.pool.query(text, values);
      },
    } as never;
    const pub = new RecordingPublisher('p', () => new Promise((r) => setTimeout(r, 1)));
    const relay = createRelay({
      db: counting,
      schema: t.schema,
      publishers: { default: pub },
      logger: NOOP_LOGGER,
      batchSize: 100,
      concurrency: 50,
    });
    expect((await relay.runOnce()).claimed).toBe(100);
    expect(pub.maxActive).toBeLessThanOrEqual(50);
    expect(writeBacks).toBeLessThan(100 / 5);
    expect((await relay.runOnce()).claimed).toBe(100);
    expect((await relay.runOnce()).claimed).toBe(50);
    expect((await relay.runOnce()).claimed).toBe(0);
  });

  it('runs as many publishes at once as its publishers ask for when its own concurrency is not set', async () => {
    await outbox().addMany(
      t.db,
      Array.from({ length: 200 }, (_, i) => ({ type: 'wide', payload: i })),
    );
    // Each publish waits long enough for the relay to start every one it may.
    const slow = () => new Promise((r) => setTimeout(r, 30));
    const wide = Object.assign(new RecordingPublisher('wide', slow), { concurrency: 80 });
    await relayFor({ default: wide }).runOnce();
    expect(wide.maxActive).toBe(80); // not the default 32
    const capped = Object.assign(new RecordingPublisher('capped', slow), { concurrency: 80 });
    await outbox().addMany(
      t.db,
      Array.from({ length: 100 }, (_, i) => ({ type: 'capped', payload: i })),
    );
    await relayFor({ default: capped }, { concurrency: 10 }).runOnce();
    expect(capped.maxActive).toBe(10); // a set concurrency wins
  });

  it('never delivers a rolled-back message and delivers one whose id committed late', async () => {
    const ob = outbox();
    await t.db
      .transaction()
      .execute(async (trx) => {
        await ob.add(trx, { type: 'ghost', payload: 0 });
        throw new Error('roll back');
      })
      .catch(() => undefined);
    const slow = await t.pool.connect();
    await slow.query('begin');
    const lateId = await ob.add(slow, { type: 'late', payload: 'holds a low id' });
    const early = await ob.addMany(
      t.db,
      Array.from({ length: 99 }, (_, i) => ({ type: 'early', payload: i })),
    );
    const pub = new RecordingPublisher();
    // 2 x concurrency >= 99: the first round (pace unknown) takes every early message.
    const relay = relayFor({ default: pub }, { concurrency: 64 });
    await relay.runOnce();
    expect(pub.calls.map((c) => c.message.messageId).sort()).toEqual([...early].sort());
    await slow.query('commit');
    slow.release();
    await relay.runOnce();
    expect(pub.calls).toHaveLength(100);
    expect(pub.calls.at(-1)?.message.messageId).toBe(lateId);
    expect(pub.calls.some((c) => c.message.type === 'ghost')).toBe(false);
  });

  it('with three relays and no failures, delivers each of 10,000 messages exactly once', async () => {
    const ob = outbox();
    for (let i = 0; i < 10; i++) {
      await ob.addMany(
        t.db,
        Array.from({ length: 1000 }, (_, j) => ({ type: 'bulk', payload: { n: i * 1000 + j } })),
      );
    }
    const pub = new RecordingPublisher();
    const relays = [0, 1, 2].map((i) =>
      relayFor({ default: pub }, { workerId: `r${i}`, batchSize: 100, concurrency: 16 }),
    );
    for (const r of relays) r.start();
    await waitFor(() => pub.calls.length >= 10_000, '10,000 deliveries', 60_000);
    await Promise.all(relays.map((r) => r.stop()));
    const counts = pub.countsByMessageId();
    expect(counts.size).toBe(10_000);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(relays.every((r) => r.counters().delivered > 0)).toBe(true);
    const { rows } = await t.pool.query(
      `select status, count(*)::int as n from "${t.schema}".all_messages group by status`,
    );
    expect(rows).toEqual([{ status: 'delivered', n: 10_000 }]);
  });
});

describe('failures', () => {
  it('backs off exponentially with jitter, exactly as the policy and injected clock say', async () => {
    await outbox().add(t.db, { type: 'x', payload: 1, maxAttempts: 4 });
    const clock = new ManualClock();
    const pub = new RecordingPublisher('p', () => {
      throw new Error('receiver down');
    });
    const relay = relayFor(
      { default: pub },
      { clock, random: () => 0.25, retry: { baseDelayMs: 1000, factor: 3, maxDelayMs: 5000, jitter: 0.5 } },
    );
    // delay = min(cap, 1000 * 3^(n-1)) * (1 - 0.5 + 0.25 * 2 * 0.5) = 0.75x: 750, 2250, then 5000 * 0.75 = 3750
    for (const expected of [750, 2250, 3750]) {
      const before = clock.now().getTime();
      expect(await relay.runOnce()).toMatchObject({ claimed: 1, retried: 1 });
      const [row] = await statusRows();
      expect(row.status).toBe('pending');
      expect(row.available_at.getTime() - before).toBe(expected);
      clock.advance(expected - 1);
      expect((await relay.runOnce()).claimed).toBe(0);
      clock.advance(1);
    }
    expect(await relay.runOnce()).toMatchObject({ claimed: 1, dead: 1 });
    const [row] = await statusRows();
    expect(row).toMatchObject({ status: 'dead', attempts: 4, locked_by: null, dead_reason: 'max_attempts' });
    expect(row.last_error).toBe('gave up after 4 attempts: Error: receiver down');
  });

  it('honours retryAfterMs from a TransientPublishError', async () => {
    await outbox().add(t.db, { type: 'x', payload: 1 });
    const clock = new ManualClock();
    const relay = relayFor(
      {
        default: new RecordingPublisher('p', () => {
          throw new TransientPublishError('429 slow down', { retryAfterMs: 30_000 });
        }),
      },
      { clock },
    );
    await relay.runOnce();
    const [row] = await statusRows();
    expect(row.available_at.getTime()).toBe(clock.now().getTime() + 30_000);
    expect(row.last_error).toMatch(/429 slow down/);
  });

  it('dead-letters a PermanentPublishError at once, and with deadLetterUnroutable an unknown destination naming it', async () => {
    const ob = outbox();
    await ob.add(t.db, { type: 'bad', payload: 1 });
    await ob.add(t.db, { type: 'x', payload: 2, destination: 'nowhere:1' });
    await ob.add(t.db, { type: 'good', payload: 3 });
    const pub = new RecordingPublisher('p', (m) => {
      if (m.type === 'bad') throw new PermanentPublishError('receiver said 400: invalid field');
      return { ok: true };
    });
    const dead: string[] = [];
    const relay = relayFor({ default: pub }, { deadLetterUnroutable: true });
    relay.on('dead', (_m, reason) => dead.push(reason));
    expect(await relay.runOnce()).toEqual({ claimed: 3, delivered: 1, retried: 0, dead: 2 });
    const rows = await statusRows();
    expect(rows.map((r) => [r.status, r.attempts, r.dead_reason])).toEqual([
      ['dead', 1, 'permanent'],
      ['dead', 1, 'unroutable'],
      ['delivered', 1, null],
    ]);
    expect(rows[0].last_error).toBe(
      'PermanentPublishError[PUBLISH_PERMANENT]: receiver said 400: invalid field',
    );
    expect(rows[1].last_error).toBe('no publisher for destination "nowhere:1" (configured: default)');
    expect(rows[2].result).toEqual({ ok: true });
    expect(dead).toHaveLength(2);
  });

  it('cuts off a publisher that hangs and never settles, as a transient timeout', async () => {
    await outbox().add(t.db, { type: 'x', payload: 1 });
    const relay = relayFor(
      { default: new RecordingPublisher('p', () => new Promise(() => undefined)) },
      { publishTimeoutMs: 50 },
    );
    expect(await relay.runOnce()).toMatchObject({ retried: 1 });
    expect((await statusRows())[0].last_error).toMatch(/timed out after 50 ms/);
  });

  it('aborts the signal at the deadline, also for a publisher that reads it only afterwards', async () => {
    await outbox().addMany(t.db, [
      { type: 'early', payload: 1 },
      { type: 'late', payload: 2 },
    ]);
    const seen: Record<string, string> = {};
    const relay = relayFor(
      {
        default: new RecordingPublisher('p', async (message, context) => {
          if (message.type === 'early') {
            // A well-behaved publisher: stops when told to.
            const { signal } = context; // destructuring reads the signal
            await new Promise((_, reject) =>
              signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
            );
          }
          await new Promise((r) => setTimeout(r, 120));
          const copy = { ...context }; // a spread context keeps its signal and logger
          seen[message.type] =
            `${copy.signal.aborted} ${String(copy.signal.reason)} ${typeof copy.logger.info}`;
        }),
      },
      { publishTimeoutMs: 50 },
    );
    expect(await relay.runOnce()).toMatchObject({ retried: 2 });
    await waitFor(() => 'late' in seen, 'the late publisher reading its signal');
    expect(seen).toEqual({ late: 'true TransientPublishError: publish timed out after 50 ms function' });
    for (const row of await statusRows()) expect(row.last_error).toMatch(/publish timed out after 50 ms$/);
  });

  it('treats thrown non-Error values as transient and records them', async () => {
    await outbox().add(t.db, { type: 'x', payload: 1 });
    const relay = relayFor({
      default: new RecordingPublisher('p', () => {
        throw { weird: true };
      }),
    });
    expect(await relay.runOnce()).toMatchObject({ retried: 1 });
    expect((await statusRows())[0].last_error).toBe('non-Error thrown: {"weird":true}');
  });
});

describe('ordering', () => {
  it('publishes messages of one key one at a time in id order while keys run in parallel', async () => {
    const keys = ['k1', 'k2', 'k3', 'k4', 'k5'];
    const ob = outbox();
    for (let i = 0; i < 20; i++) {
      await ob.addMany(
        t.db,
        keys.map((k) => ({ type: 'o', payload: i, orderingKey: k })),
      );
    }
    const activeKeys = new Set<string>();
    let overlap = false;
    const pub = new RecordingPublisher('p', async (m) => {
      if (activeKeys.has(m.orderingKey!)) overlap = true;
      activeKeys.add(m.orderingKey!);
      await new Promise((r) => setTimeout(r, Math.random() * 3));
      activeKeys.delete(m.orderingKey!);
    });
    const relay = relayFor({ default: pub }, { concurrency: 10 });
    relay.start();
    await waitFor(() => pub.calls.length >= 100, '100 deliveries');
    await relay.stop();
    expect(overlap).toBe(false);
    expect(pub.maxActive).toBeGreaterThan(1);
    for (const k of keys) {
      const seq = pub.calls.filter((c) => c.message.orderingKey === k).map((c) => c.message.payload);
      expect(seq).toEqual(Array.from({ length: 20 }, (_, i) => i));
    }
  });

  it('a failing head delays only its own key', async () => {
    const ob = outbox();
    await ob.add(t.db, { type: 'head', payload: 0, orderingKey: 'stuck' });
    await ob.add(t.db, { type: 'next', payload: 1, orderingKey: 'stuck' });
    await ob.addMany(
      t.db,
      Array.from({ length: 10 }, (_, i) => ({ type: 'free', payload: i, orderingKey: `f${i % 2}` })),
    );
    const pub = new RecordingPublisher('p', (m) => {
      if (m.type === 'head') throw new TransientPublishError('device offline');
    });
    const relay = relayFor({ default: pub }, { retry: { baseDelayMs: 60_000, maxDelayMs: 60_000 } });
    relay.start();
    await waitFor(
      () => pub.calls.filter((c) => c.message.type === 'free').length === 10,
      'free keys delivered',
    );
    await relay.stop();
    expect(pub.calls.filter((c) => c.message.type === 'head')).toHaveLength(1);
    expect(pub.calls.some((c) => c.message.type === 'next')).toBe(false);
    const rows = await statusRows();
    expect(rows.slice(0, 2).map((r) => r.status)).toEqual(['pending', 'pending']);
  });

  it('unblocks the next message of a key once the head is dead', async () => {
    const ob = outbox();
    await ob.add(t.db, { type: 'head', payload: 0, orderingKey: 'k' });
    await ob.add(t.db, { type: 'next', payload: 1, orderingKey: 'k' });
    const pub = new RecordingPublisher('p', (m) => {
      if (m.type === 'head') throw new PermanentPublishError('rejected');
    });
    const relay = relayFor({ default: pub });
    await relay.runOnce();
    await relay.runOnce();
    expect(pub.calls.map((c) => c.message.type)).toEqual(['head', 'next']);
  });
});

describe('lease budget', () => {
  it('holds no more messages than it can start within half a lease, whatever the batch size', async () => {
    await outbox().addMany(
      t.db,
      Array.from({ length: 60 }, (_, i) => ({ type: 'slow', payload: i })),
    );
    const warnings: string[] = [];
    const logger = { ...NOOP_LOGGER, warn: (_: object, msg?: string) => warnings.push(msg ?? '') };
    logger.child = () => logger;
    const pub = new RecordingPublisher('p', () => new Promise((r) => setTimeout(r, 50)));
    // 2 publishes of 50 ms at a time: 20 fit in half of a 1 s lease. 500 claimed at once
    // would wait up to 15 s in the queue, long after their leases ran out.
    const relay = relayFor({ default: pub }, { batchSize: 500, concurrency: 2, leaseMs: 1000, logger });
    let maxInFlight = 0;
    relay.start();
    try {
      await waitFor(async () => {
        const { rows } = await t.pool.query(
          `select count(*) filter (where status = 'in_flight')::int as f,
                  count(*) filter (where status = 'delivered')::int as d
             from "${t.schema}".all_messages`,
        );
        maxInFlight = Math.max(maxInFlight, rows[0].f);
        return rows[0].d === 60;
      }, 'all 60 delivered');
    } finally {
      await relay.stop();
    }
    expect(maxInFlight).toBeLessThanOrEqual(30);
    expect([...pub.countsByMessageId().values()].every((n) => n === 1)).toBe(true);
    expect(warnings).not.toContain('lease expired before publishing; leaving it to the next claim');
  });
});

describe('wake-up', () => {
  it('delivers a message added with onAdded soon after its COMMIT, though onAdded fires before it', async () => {
    const pub = new RecordingPublisher();
    // The idle poll alone would take a minute: only the wake-up and its re-checks can deliver.
    const relay = relayFor({ default: pub }, { pollIntervalMs: 60_000 });
    const woken = createOutbox({ schema: t.schema, onAdded: () => relay.wake() });
    relay.start();
    try {
      await waitFor(() => relay.counters().claimBatches > 0, 'the first idle claim');
      const client = await t.pool.connect();
      try {
        await client.query('begin');
        await woken.add(client, { type: 'w', payload: 1 });
        // The claim the wake-up triggers runs now and sees nothing; commit right after it.
        while (relay.counters().claimBatches < 2) await new Promise((r) => setImmediate(r));
        await client.query('commit');
      } finally {
        client.release();
      }
      const committedAt = Date.now();
      await waitFor(() => pub.calls.length === 1, 'delivery after the wake-up', 2_000);
      expect(pub.calls[0]!.at - committedAt).toBeLessThan(1_000);
    } finally {
      await relay.stop();
    }
  });
});

describe('stop', () => {
  it('finishes in-flight messages and gives unstarted ones back with their attempt', async () => {
    await outbox().addMany(
      t.db,
      Array.from({ length: 40 }, (_, i) => ({ type: 's', payload: i })),
    );
    let started = 0;
    const pub = new RecordingPublisher('p', async () => {
      started++;
      await new Promise((r) => setTimeout(r, 100));
    });
    const relay = relayFor({ default: pub }, { concurrency: 4, batchSize: 40 });
    relay.start();
    await waitFor(() => started >= 4, 'first publishes');
    await relay.stop({ timeoutMs: 5000 });
    const rows = await statusRows();
    const delivered = rows.filter((r) => r.status === 'delivered');
    expect(delivered.length).toBe(pub.calls.length);
    expect(rows.filter((r) => r.status === 'in_flight')).toEqual([]);
    for (const r of rows.filter((x) => x.status === 'pending'))
      expect([r.attempts, r.locked_by]).toEqual([0, null]);
    expect(pub.closed).toBe(1);
  });

  it('leaves a publish that ignores the stop to lease expiry, never releasing it while it may still run', async () => {
    await outbox().addMany(
      t.db,
      Array.from({ length: 3 }, (_, i) => ({ type: 'h', payload: i })),
    );
    const hanging = new RecordingPublisher('p', () => new Promise(() => undefined));
    const relay = relayFor({ default: hanging }, { publishTimeoutMs: 50_000, workerId: 'stuck' });
    relay.start();
    await waitFor(() => hanging.calls.length === 3, 'publishes started');
    await relay.stop({ timeoutMs: 50 });
    const rows = await statusRows();
    expect(rows.map((r) => [r.status, r.attempts, r.locked_by])).toEqual([
      ['in_flight', 1, 'stuck'],
      ['in_flight', 1, 'stuck'],
      ['in_flight', 1, 'stuck'],
    ]);
    const other = new RecordingPublisher();
    expect(await relayFor({ default: other }).runOnce()).toMatchObject({ claimed: 0 });
  });

  it('gives the attempt back when stop() aborts a publish that honours its signal', async () => {
    await outbox().add(t.db, { type: 'a', payload: 1, maxAttempts: 1 });
    const polite = new RecordingPublisher('p', (_m, { signal }) => {
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    });
    const relay = relayFor({ default: polite });
    relay.start();
    await waitFor(() => polite.calls.length === 1, 'publish started');
    await relay.stop({ timeoutMs: 20 });
    expect((await statusRows()).map((r) => [r.status, r.attempts, r.locked_by, r.last_error])).toEqual([
      ['pending', 0, null, null],
    ]);
    expect(relay.counters()).toMatchObject({ retried: 0, dead: 0 });
  });
});
