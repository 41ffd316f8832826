import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PermanentPublishError, TransientPublishError } from '../../src/core/foundation/errors.js';
import { NOOP_LOGGER } from '../../src/core/foundation/logger.js';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { getMessage } from '../../src/core/maintenance/dead-letters.js';
import { getStats } from '../../src/core/maintenance/outbox-stats.js';
import type { Queryable } from '../../src/core/foundation/queryable.js';
import { createRelay, type RelayOptions } from '../../src/core/relay/relay.js';
import { retryDeadJob } from '../../src/jobs/retry-dead-job.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { RecordingPublisher, waitFor } from '../support/recording-publisher.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase({ poolSize: 12 });
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

const outbox = () => createOutbox({ schema: t.schema });

async function rows() {
  const { rows } = await t.pool.query(
    `select id, type, destination, status, attempts, available_at, locked_by, last_error, result, dead_reason
       from "${t.schema}".all_messages order by id`,
  );
  return rows;
}

/** Rejects when `promise` has not settled within `ms`: a hang is a failure, not a stuck run. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
    }),
  ]);
}

describe('1. values PostgreSQL cannot store', () => {
  it('writes back every other outcome when a result or error holds NUL or lone surrogates, or retryAfterMs is NaN', async () => {
    await outbox().addMany(
      t.db,
      ['nul-result', 'nul-error', 'surrogate-error', 'nan-retry', ...Array(16).fill('ok')].map((type, i) => ({
        type,
        payload: i,
      })),
    );
    const relay = relayFor({
      default: new RecordingPublisher('p', (m) => {
        if (m.type === 'nul-result') return { out: 'a\u0000b', 'k\u0000': '\ud800' };
        if (m.type === 'nul-error') throw new Error('bad \u0000 byte');
        if (m.type === 'surrogate-error') throw new Error('half \udc00 a pair');
        if (m.type === 'nan-retry')
          throw new TransientPublishError('slow down', { retryAfterMs: Number.NaN });
        return { ok: true };
      }),
    });
    expect(await within(relay.runOnce(), 15_000, 'runOnce')).toMatchObject({
      claimed: 20,
      delivered: 17,
      retried: 3,
    });
    const r = await rows();
    expect(r.filter((x) => x.type === 'ok').every((x) => x.status === 'delivered')).toBe(true);
    expect(r[0]).toMatchObject({ status: 'delivered', result: { out: 'a\uFFFDb', 'k\uFFFD': '\uFFFD' } });
    expect(r[1]).toMatchObject({ status: 'pending', last_error: 'Error: bad \uFFFD byte' });
    expect(r[2]).toMatchObject({ status: 'pending', last_error: 'Error: half \uFFFD a pair' });
    expect(r[3].status).toBe('pending');
    expect(Number.isFinite(r[3].available_at.getTime())).toBe(true);
  });

  it('splits a refused batch and writes row by row: only the refused row is affected', async () => {
    // A constraint the data cannot satisfy stands for any row PostgreSQL refuses (class 23).
    await t.pool.query(
      `alter table "${t.schema}".messages add constraint refuses_marked
         check (coalesce(last_error, '') not like '%X-REFUSE%' and (result is null or not result ? 'refuse'))`,
    );
    // Delivered rows (and their result) are written to the archive by storage v2's write-back.
    await t.pool.query(
      `alter table "${t.schema}".messages_archive add constraint refuses_marked
         check (result is null or not result ? 'refuse')`,
    );
    try {
      await outbox().addMany(
        t.db,
        ['refused-error', 'refused-result', 'fails', ...Array(10).fill('ok')].map((type, i) => ({
          type,
          payload: i,
        })),
      );
      const dead: string[] = [];
      const relay = relayFor({
        default: new RecordingPublisher('p', (m) => {
          if (m.type === 'refused-error') throw new Error('X-REFUSE');
          if (m.type === 'refused-result') return { refuse: true };
          if (m.type === 'fails') throw new Error('receiver down');
          return { ok: true };
        }),
      });
      relay.on('dead', (m) => dead.push(m.type));
      expect(await within(relay.runOnce(), 15_000, 'runOnce')).toMatchObject({
        claimed: 13,
        delivered: 11,
        retried: 1,
        dead: 1,
      });
      const r = await rows();
      expect(r[0]).toMatchObject({ status: 'dead', dead_reason: 'unstorable_result' });
      expect(r[0].last_error).toMatch(/^the outcome of attempt 1 could not be stored/);
      expect(r[1]).toMatchObject({ status: 'delivered', result: null });
      expect(r[2]).toMatchObject({ status: 'pending', last_error: 'Error: receiver down' });
      expect(r.slice(3).every((x) => x.status === 'delivered')).toBe(true);
      expect(dead).toEqual(['refused-error']);
    } finally {
      await t.pool.query(`alter table "${t.schema}".messages drop constraint refuses_marked`);
      await t.pool.query(`alter table "${t.schema}".messages_archive drop constraint refuses_marked`);
    }
  });
});

describe('3. attempts and crash loops', () => {
  it('dead-letters at claim a row whose lease expired on its last attempt, and unblocks its key', async () => {
    await outbox().add(t.db, { type: 'crasher', payload: 0, orderingKey: 'k', maxAttempts: 3 });
    await outbox().add(t.db, { type: 'next', payload: 1, orderingKey: 'k' });
    // What a relay that crashed publishing it on its third attempt leaves behind.
    await t.pool.query(
      `update "${t.schema}".messages set status = 'in_flight', attempts = 3, locked_by = 'crashed',
              locked_until = now() - interval '1 s', available_at = now() - interval '1 s', last_error = 'earlier'
        where type = 'crasher'`,
    );
    const pub = new RecordingPublisher();
    const dead: string[] = [];
    const relay = relayFor({ default: pub });
    relay.on('dead', (m, reason) => dead.push(`${m.type}: ${reason}`));
    expect(await relay.runOnce()).toEqual({ claimed: 0, delivered: 0, retried: 0, dead: 1 });
    const [crasher] = await rows();
    expect(crasher).toMatchObject({
      status: 'dead',
      attempts: 3,
      locked_by: null,
      dead_reason: 'lease_expired',
    });
    expect(crasher.last_error).toBe(
      'lease expired 3 times: the message probably crashes or hangs its relay (last error: earlier)',
    );
    expect(dead).toEqual([`crasher: ${crasher.last_error}`]);
    expect(pub.calls).toHaveLength(0);
    expect(await relay.runOnce()).toMatchObject({ claimed: 1, delivered: 1 });
    expect(pub.calls.map((c) => c.message.type)).toEqual(['next']);
  });

  it('runOnce with a slow receiver claims what it can start within the lease and uses no attempt it did not publish', async () => {
    await outbox().addMany(
      t.db,
      Array.from({ length: 30 }, (_, i) => ({ type: 's', payload: i })),
    );
    const pub = new RecordingPublisher('p', () => new Promise((r) => setTimeout(r, 150)));
    const relay = relayFor({ default: pub }, { batchSize: 500, concurrency: 1, leaseMs: 1000 });
    const round = await relay.runOnce();
    const r = await rows();
    expect(r.filter((x) => x.status === 'in_flight')).toEqual([]);
    expect(r.filter((x) => x.status === 'delivered')).toHaveLength(round.delivered);
    // Every attempt counted was a publish that ran; nothing is waiting out a lease.
    expect(r.reduce((n, x) => n + x.attempts, 0)).toBe(pub.calls.length);
    expect(round.delivered).toBeGreaterThan(0);
  });
});

describe('4. mixed fleets', () => {
  it('claims only destinations it has publishers for; the others stay pending and show in stats', async () => {
    const ob = outbox();
    await ob.add(t.db, { type: 'cmd', payload: 1, destination: 'routeros:tower-1' });
    await ob.add(t.db, { type: 'evt', payload: 2, destination: 'webhook:acme' });
    await ob.add(t.db, { type: 'evt', payload: 3, destination: 'webhook' });
    await ob.add(t.db, { type: 'evt', payload: 4, destination: 'exact:only' });
    await ob.add(t.db, { type: 'evt', payload: 5, destination: 'exact:other' });
    const webhooks = new RecordingPublisher('webhook');
    const exact = new RecordingPublisher('exact');
    const relay = relayFor({ webhook: webhooks, 'exact:only': exact });
    expect(await relay.runOnce()).toEqual({ claimed: 3, delivered: 3, retried: 0, dead: 0 });
    expect((await rows()).map((x) => [x.destination, x.status, x.attempts])).toEqual([
      ['routeros:tower-1', 'pending', 0],
      ['webhook:acme', 'delivered', 1],
      ['webhook', 'delivered', 1],
      ['exact:only', 'delivered', 1],
      ['exact:other', 'pending', 0],
    ]);
    const stats = await getStats(t.db, { schema: t.schema });
    expect(stats.byDestination.filter((d) => d.status === 'pending').map((d) => d.destination)).toEqual([
      'exact:other',
      'routeros:tower-1',
    ]);
    for (const d of stats.byDestination) expect(d.oldestAgeSeconds).toBeGreaterThanOrEqual(0);
    // A relay that serves them delivers them.
    const routers = new RecordingPublisher('routeros');
    expect(await relayFor({ routeros: routers }).runOnce()).toMatchObject({ claimed: 1, delivered: 1 });
  });
});

describe('5. throwing listeners', () => {
  it('a listener that throws on every event neither repeats work nor stalls the relay', async () => {
    await outbox().addMany(t.db, [
      { type: 'ok', payload: 1 },
      { type: 'retry', payload: 2 },
      { type: 'dead', payload: 3 },
    ]);
    const pub = new RecordingPublisher('p', (m) => {
      if (m.type === 'retry') throw new TransientPublishError('later');
      if (m.type === 'dead') throw new PermanentPublishError('never');
    });
    const errors: unknown[] = [];
    const logger = { ...NOOP_LOGGER, error: (obj: object) => errors.push(obj) };
    logger.child = () => logger;
    const relay = relayFor({ default: pub }, { logger });
    for (const event of ['claimed', 'delivered', 'failed', 'dead'] as const) {
      relay.on(event, () => {
        throw new Error(`listener bug on ${event}`);
      });
    }
    expect(await within(relay.runOnce(), 10_000, 'runOnce')).toEqual({
      claimed: 3,
      delivered: 1,
      retried: 1,
      dead: 1,
    });
    expect(pub.calls).toHaveLength(3);
    expect((await rows()).map((x) => x.status)).toEqual(['delivered', 'pending', 'dead']);
    expect(relay.counters()).toMatchObject({
      delivered: 1,
      retried: 1,
      dead: 1,
      errors: 0,
      listenerErrors: 4,
    });
    expect(errors.map((e) => (e as { event: string }).event).sort()).toEqual([
      'claimed',
      'dead',
      'delivered',
      'failed',
    ]);
  });

  it('a throwing error listener does not end the loop', async () => {
    let failNext = true;
    const flaky: Queryable = {
      query: (text: string, values: unknown[]) => {
        if (failNext && text.includes('for update')) {
          failNext = false;
          return Promise.reject(new Error('database briefly away'));
        }
        return t.pool.query(text, values);
      },
    } as never;
    await outbox().add(t.db, { type: 'a', payload: 1 });
    const pub = new RecordingPublisher();
    const relay = createRelay({
      db: flaky,
      schema: t.schema,
      publishers: { default: pub },
      logger: NOOP_LOGGER,
    });
    relay.on('error', () => {
      throw new Error('listener bug');
    });
    relay.start();
    try {
      await waitFor(() => pub.calls.length === 1, 'delivery after the claim error', 10_000);
    } finally {
      await relay.stop();
    }
    expect(relay.counters()).toMatchObject({ errors: 1, listenerErrors: 1, delivered: 1 });
  });
});

describe('6. stop and runOnce', () => {
  it('stop() through the signal during runOnce() settles both, and the stopped publish keeps its attempt', async () => {
    await outbox().add(t.db, { type: 'a', payload: 1 });
    const controller = new AbortController();
    const pub = new RecordingPublisher(
      'p',
      (_m, { signal }) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    );
    const relay = relayFor({ default: pub }, { signal: controller.signal, stopTimeoutMs: 20 });
    const round = relay.runOnce();
    await waitFor(() => pub.calls.length === 1, 'publish started');
    controller.abort();
    const [result] = await within(Promise.all([round, relay.stop()]), 10_000, 'runOnce and stop');
    expect(result).toMatchObject({ claimed: 1, delivered: 0, retried: 0, dead: 0 });
    expect((await rows()).map((x) => [x.status, x.attempts, x.locked_by])).toEqual([['pending', 0, null]]);
  });
});

describe('7. events follow what the database accepted', () => {
  it('emits and counts nothing for a row whose lease another relay took meanwhile', async () => {
    await outbox().add(t.db, { type: 'a', payload: 1 });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const pub = new RecordingPublisher('p', async () => {
      await gate;
      throw new PermanentPublishError('too late anyway');
    });
    const infos: string[] = [];
    const logger = { ...NOOP_LOGGER, info: (_o: object, msg?: string) => infos.push(msg ?? '') };
    logger.child = () => logger;
    const relay = relayFor({ default: pub }, { logger, workerId: 'slow' });
    const events: string[] = [];
    relay.on('dead', () => events.push('dead'));
    relay.on('failed', () => events.push('failed'));
    const round = relay.runOnce();
    await waitFor(() => pub.calls.length === 1, 'publish started');
    // Its lease expired and another relay claimed the row.
    await t.pool.query(`update "${t.schema}".messages set locked_by = 'other', attempts = 2`);
    release();
    expect(await round).toEqual({ claimed: 1, delivered: 0, retried: 0, dead: 0 });
    expect(events).toEqual([]);
    expect(infos.some((m) => m.startsWith('lease lost'))).toBe(true);
    expect((await rows()).map((x) => [x.status, x.locked_by])).toEqual([['in_flight', 'other']]);
  });
});

describe('8. one rule, one place', () => {
  it('caps attempts with the relay maxAttempts option (MAX_RETRIES)', async () => {
    await outbox().add(t.db, { type: 'a', payload: 1, maxAttempts: 25 });
    const relay = relayFor(
      {
        default: new RecordingPublisher('p', () => {
          throw new Error('down');
        }),
      },
      { maxAttempts: 2, retry: { baseDelayMs: 0, maxDelayMs: 0, jitter: 0 } },
    );
    expect(await relay.runOnce()).toMatchObject({ retried: 1 });
    expect(await relay.runOnce()).toMatchObject({ dead: 1 });
    expect((await rows())[0]).toMatchObject({ status: 'dead', attempts: 2, dead_reason: 'max_attempts' });
  });

  it('delivers through a plain pg.Pool (named prepared statements)', async () => {
    const pool = new pg.Pool({ connectionString: t.url, max: 1 });
    try {
      await outbox().addMany(
        pool,
        Array.from({ length: 50 }, (_, i) => ({ type: 'p', payload: i, orderingKey: `k${i % 3}` })),
      );
      const pub = new RecordingPublisher('p', (m) =>
        m.type === 'p' && (m.payload as number) === 7 ? { seven: 7 } : undefined,
      );
      const relay = createRelay({
        db: pool,
        schema: t.schema,
        publishers: { default: pub },
        logger: NOOP_LOGGER,
      });
      let delivered = 0;
      while (delivered < 50) {
        const round = await relay.runOnce();
        expect(round.claimed).toBeGreaterThan(0);
        delivered += round.delivered;
      }
      const { rows: prepared } = await pool.query<{ n: number }>(
        `select count(*)::int as n from pg_prepared_statements where name like 'outbox_%'`,
      );
      expect(prepared[0]!.n).toBeGreaterThan(0);
      expect((await rows()).find((x) => x.result !== null)?.result).toEqual({ seven: 7 });
      await relay.stop();
    } finally {
      await pool.end();
    }
  });

  it('retry-dead replays rows by dead_reason max_attempts, whatever their last_error says', async () => {
    const ob = outbox();
    const ids = await ob.addMany(t.db, [
      { type: 'exhausted', payload: 1 },
      { type: 'permanent', payload: 2 },
    ]);
    await t.pool.query(
      `update "${t.schema}".messages set status = 'dead', dead_at = now(),
              dead_reason = case type when 'exhausted' then 'max_attempts' else 'permanent' end,
              last_error = case type when 'exhausted' then 'replayed after: HTTP 503' else 'gave up after 3 attempts: x' end`,
    );
    expect((await getMessage(t.db, ids[0]!, { schema: t.schema }))?.deadReason).toBe('max_attempts');
    const job = retryDeadJob({ db: t.db, schema: t.schema });
    const context = {
      name: 'retry-dead',
      signal: new AbortController().signal,
      logger: NOOP_LOGGER,
      transaction: () => Promise.reject(new Error('retry-dead writes no events')),
    } as const;
    expect(await job({ ...context, reason: 'manual', tick: undefined })).toEqual({ scanned: 1, replayed: 1 });
    expect((await rows()).map((x) => [x.type, x.status, x.dead_reason])).toEqual([
      ['exhausted', 'pending', null],
      ['permanent', 'dead', 'permanent'],
    ]);
  });
});
