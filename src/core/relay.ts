import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { pino } from 'pino';
import type { PublishContext, Publisher } from '../publishers/publisher.js';
import { type Clock, SystemClock } from './clock.js';
import {
  describeError,
  OutboxValidationError,
  PermanentPublishError,
  TransientPublishError,
} from './errors.js';
import type { Logger } from './logger.js';
import type { OutboxMessage } from './message.js';
import { type Queryable, sqlRunner } from './queryable.js';
import { backoffDelayMs, type RetryPolicy, resolveRetryPolicy } from './retry-policy.js';
import { DEFAULT_SCHEMA } from './schema-name.js';
import { type ClaimedRow, type FailedRow, OutboxStore, preparedRunner } from './store.js';
import { requireInt } from './validate-message.js';

/**
 * Rows claimed per statement unless configured. 500 drained 100k no-op messages 1.3x faster
 * than 200 (bench/drain.ts); slow publishers are protected by the lease budget (see holdCap).
 */
export const DEFAULT_BATCH_SIZE = 500;
/** Publishes running at once unless configured. */
export const DEFAULT_CONCURRENCY = 32;
/** Idle poll interval; the poll is the safety net behind any wake-up. */
export const DEFAULT_POLL_INTERVAL_MS = 50;
/** How long a claim is ours before another relay may take the row (crash recovery time). */
export const DEFAULT_LEASE_MS = 60_000;
/** How long `stop()` waits for in-flight publishes before cutting them off. */
export const DEFAULT_STOP_TIMEOUT_MS = 10_000;
/**
 * Poll interval while messages are flowing (the last claim found some, but not a full batch):
 * a steady stream waits at most this long instead of `pollIntervalMs`. Idle relays still
 * poll every `pollIntervalMs`.
 */
export const BUSY_POLL_INTERVAL_MS = 10;
/** How long after the last claim that found messages the relay keeps polling at the busy interval. */
const BUSY_WINDOW_MS = 200;
/**
 * A wake-up from `onAdded` arrives before the producer's COMMIT, so the claim it triggers may
 * not see the row yet. A woken claim that finds nothing looks again after these pauses.
 */
const WAKE_RECHECK_MS = [1, 1, 2, 2, 4, 10] as const;
/** Longest pause between retries of a failing database call in the loop. */
const MAX_ERROR_BACKOFF_MS = 5_000;

/** Options of `createRelay`. */
export interface RelayOptions {
  /** kysely instance or pg Pool. Each claim and write-back is one autocommit statement. */
  db: Queryable;
  schema?: string;
  /**
   * Publishers by route. A message goes to `publishers[destination]`, else to
   * `publishers[<destination up to the first ':'>]` (`routeros:tower-3` -> `routeros`).
   */
  publishers: Record<string, Publisher>;
  /** Shown in `locked_by`. Default `<hostname>:<pid>:<random>`. */
  workerId?: string;
  batchSize?: number;
  concurrency?: number;
  pollIntervalMs?: number;
  leaseMs?: number;
  /** Deadline of one publish attempt; its signal is aborted then. Default leaseMs / 2. */
  publishTimeoutMs?: number;
  stopTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  logger?: Logger;
  clock?: Clock;
  /** Source of jitter, [0, 1). */
  random?: () => number;
  /** Aborting it stops the relay, like `stop()`. */
  signal?: AbortSignal;
  /** Call `close()` on every publisher when the relay stops. Default true. */
  closePublishers?: boolean;
  /**
   * Run claim and write-backs as named prepared statements when `db` is a `pg` Pool (kysely
   * cannot). Default true. Set false behind PgBouncer in transaction mode older than 1.21.
   */
  preparedStatements?: boolean;
}

/** Counts from one `runOnce()`. */
export interface RoundResult {
  claimed: number;
  delivered: number;
  /** Failed and scheduled for another attempt. */
  retried: number;
  dead: number;
}

/** Running totals since the relay was created. */
export interface RelayCounters extends RoundResult {
  claimBatches: number;
  errors: number;
}

/** Details given with each relay event. */
export interface DeliveredInfo {
  durationMs: number;
  result: unknown;
}

/** The relay's events. `error` reports loop errors (database down...); the relay keeps running. */
export interface RelayEvents {
  delivered: [message: OutboxMessage, info: DeliveredInfo];
  failed: [message: OutboxMessage, error: unknown, info: { retryAt: Date; durationMs: number }];
  dead: [message: OutboxMessage, reason: string];
  claimed: [count: number, info: { durationMs: number }];
  error: [error: unknown];
}

/** The relay: claims due messages and delivers them through publishers. */
export interface Relay {
  readonly workerId: string;
  /** Starts the continuous loop. Returns at once. */
  start(): void;
  /** Stops claiming, finishes or releases in-flight messages within the deadline, flushes results. */
  stop(options?: { timeoutMs?: number }): Promise<void>;
  /** Claims and delivers one batch, writes back the results, and returns the counts. */
  runOnce(): Promise<RoundResult>;
  /** Claims now instead of waiting for the next poll (same-process wake-up after a commit). */
  wake(): void;
  readonly running: boolean;
  counters(): RelayCounters;
  on<E extends keyof RelayEvents>(event: E, listener: (...args: RelayEvents[E]) => void): this;
  off<E extends keyof RelayEvents>(event: E, listener: (...args: RelayEvents[E]) => void): this;
  once<E extends keyof RelayEvents>(event: E, listener: (...args: RelayEvents[E]) => void): this;
}

/** A claimed message and its lease. */
interface Job {
  message: ClaimedMessage;
  leaseEnd: number;
  started: boolean;
  /** Made on first read of the publish context's signal: most publishes never read it. */
  controller?: AbortController;
  /** Set when the attempt was cut off (deadline or stop), even before any signal existed. */
  abortReason?: unknown;
}

/** Aborts an attempt: its signal now, or at once when the publisher asks for it later. */
function abortJob(job: Job, reason: unknown): void {
  if (job.abortReason !== undefined) return;
  job.abortReason = reason;
  job.controller?.abort(reason);
}

/**
 * The context of one publish. AbortController and child logger cost more than a no-op
 * publish (bench/drain.ts profile): they are made only when the publisher reads them.
 * Getters on an object literal are own enumerable properties, so `{ ...context }` still works.
 */
function publishContext(job: Job, logger: Logger, publisherName: string): PublishContext {
  let child: Logger | undefined;
  return {
    attempt: job.message.attempts,
    get signal() {
      if (!job.controller) {
        job.controller = new AbortController();
        if (job.abortReason !== undefined) job.controller.abort(job.abortReason);
      }
      return job.controller.signal;
    },
    get logger() {
      child ??= logger.child({ messageId: job.message.messageId, publisher: publisherName });
      return child;
    },
  };
}

type Outcome =
  | { kind: 'delivered'; job: Job; result: unknown; durationMs: number }
  | {
      kind: 'failed';
      job: Job;
      error: unknown;
      reason: string;
      retryAfterMs?: number;
      permanent: boolean;
      durationMs: number;
    };

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** An outbox message whose payload is parsed only if a publisher reads it. */
class ClaimedMessage implements OutboxMessage {
  readonly id: string;
  readonly messageId: string;
  readonly kind: ClaimedRow['kind'];
  readonly type: string;
  readonly destination: string;
  readonly tenantId: string | null;
  readonly orderingKey: string | null;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly createdAt: Date;
  #payload: unknown;
  #parsed = false;

  constructor(row: ClaimedRow) {
    this.id = row.id;
    this.messageId = row.message_id;
    this.kind = row.kind;
    this.type = row.type;
    this.destination = row.destination;
    this.tenantId = row.tenant_id;
    this.orderingKey = row.ordering_key;
    this.body = row.body;
    this.headers = row.headers ?? NO_HEADERS;
    this.attempts = row.attempts;
    this.maxAttempts = row.max_attempts;
    this.createdAt = new Date(row.created_ms);
  }

  get payload(): unknown {
    if (!this.#parsed) {
      this.#payload = JSON.parse(this.body);
      this.#parsed = true;
    }
    return this.#payload;
  }

  toJSON() {
    return { ...this, payload: this.payload };
  }
}

/** Publishers' resolved values go to a jsonb column; anything not JSON is stored as null. */
function resultJson(result: unknown): string | null {
  if (result === undefined || result === null) return null;
  try {
    const text = JSON.stringify(result);
    return text === undefined || text.length > 64 * 1024 ? null : text;
  } catch {
    return null;
  }
}

function defaultLogger(): Logger {
  return pino({ name: 'outbox-relay', level: 'info' }) as unknown as Logger;
}

/**
 * Creates a relay. Several relays (in one or many processes) can run on one table: each row
 * is delivered by one of them at a time, and a crashed relay's rows come back after `leaseMs`.
 *
 * @example
 * const relay = createRelay({ db, publishers: { default: new ConsolePublisher() } });
 * relay.start();
 * process.on('SIGTERM', () => relay.stop());
 */
export function createRelay(options: RelayOptions): Relay {
  return new OutboxRelay(options);
}

class OutboxRelay extends EventEmitter implements Relay {
  readonly workerId: string;
  private readonly run;
  private readonly store: OutboxStore;
  private readonly publishers: Record<string, Publisher>;
  private readonly batchSize: number;
  private readonly concurrency: number;
  private readonly pollIntervalMs: number;
  private readonly leaseMs: number;
  private readonly publishTimeoutMs: number;
  private readonly stopTimeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly closePublishers: boolean;

  private readonly totals: RelayCounters = {
    claimed: 0,
    delivered: 0,
    retried: 0,
    dead: 0,
    claimBatches: 0,
    errors: 0,
  };
  private isRunning = false;
  private loopDone: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  /** Index into WAKE_RECHECK_MS of the next re-check after a wake-up; -1 when none is due. */
  private wakeRecheck = -1;
  /** Number of wake() calls, to tell whether one arrived during a claim. */
  private wakes = 0;
  /** Moving average of publish durations (ms); undefined until the first outcome. */
  private avgPublishMs: number | undefined;
  /** performance.now() of the last claim that found messages. */
  private lastFoundAt = Number.NEGATIVE_INFINITY;
  /** Claimed, not yet started. */
  private readonly queue: Job[] = [];
  /** Publishing now. */
  private readonly active = new Set<Job>();
  /** Finished, not yet written back. */
  private readonly outcomes: Outcome[] = [];
  private flushing: Promise<void> | undefined;
  private activeSettled: (() => void) | undefined;

  constructor(options: RelayOptions) {
    super();
    if (!options || typeof options !== 'object')
      throw new OutboxValidationError('options', 'must be an object');
    if (!options.db) throw new OutboxValidationError('db', 'is required: a kysely instance or a pg Pool');
    if (
      !options.publishers ||
      typeof options.publishers !== 'object' ||
      Object.keys(options.publishers).length === 0
    ) {
      throw new OutboxValidationError('publishers', 'must map at least one destination to a Publisher');
    }
    for (const [route, p] of Object.entries(options.publishers)) {
      if (!p || typeof p.publish !== 'function') {
        throw new OutboxValidationError(
          `publishers.${route}`,
          'must be a Publisher (an object with publish(message, context))',
        );
      }
    }
    this.store = new OutboxStore(options.schema ?? DEFAULT_SCHEMA);
    this.run =
      (options.preparedStatements ?? true)
        ? preparedRunner(options.db, this.store.hotPath)
        : sqlRunner(options.db);
    this.publishers = { ...options.publishers };
    this.batchSize = requireInt(options.batchSize ?? DEFAULT_BATCH_SIZE, 'batchSize', 1, 10_000);
    this.concurrency = requireInt(options.concurrency ?? DEFAULT_CONCURRENCY, 'concurrency', 1, 10_000);
    this.pollIntervalMs = requireInt(
      options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
      'pollIntervalMs',
      1,
      3_600_000,
    );
    this.leaseMs = requireInt(options.leaseMs ?? DEFAULT_LEASE_MS, 'leaseMs', 100, 24 * 3_600_000);
    this.publishTimeoutMs = requireInt(
      options.publishTimeoutMs ?? Math.floor(this.leaseMs / 2),
      'publishTimeoutMs',
      1,
      this.leaseMs,
    );
    this.stopTimeoutMs = requireInt(
      options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS,
      'stopTimeoutMs',
      0,
      3_600_000,
    );
    this.retry = resolveRetryPolicy(options.retry);
    this.workerId =
      options.workerId ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
    this.logger = (options.logger ?? defaultLogger()).child({ component: 'relay', workerId: this.workerId });
    this.clock = options.clock ?? new SystemClock();
    this.random = options.random ?? Math.random;
    this.closePublishers = options.closePublishers ?? true;
    options.signal?.addEventListener('abort', () => void this.stop(), { once: true });
  }

  get running(): boolean {
    return this.isRunning;
  }

  counters(): RelayCounters {
    return { ...this.totals };
  }

  wake(): void {
    this.wakeRecheck = 0;
    this.wakes++;
    this.nudge();
  }

  /** Ends the loop's current sleep (or the next one) without arming the wake-up re-checks. */
  private nudge(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  start(): void {
    if (this.isRunning) return;
    if (this.stopping) throw new Error('relay was stopped; create a new one');
    this.isRunning = true;
    this.loopDone = this.loop();
    this.logger.info({ batchSize: this.batchSize, concurrency: this.concurrency }, 'relay started');
  }

  async runOnce(): Promise<RoundResult> {
    const before = this.counters();
    const jobs = await this.claim(this.batchSize);
    this.queue.push(...jobs);
    this.pump();
    await this.waitForActive(Number.POSITIVE_INFINITY);
    await this.flushUntilEmpty();
    const after = this.totals;
    return {
      claimed: jobs.length,
      delivered: after.delivered - before.delivered,
      retried: after.retried - before.retried,
      dead: after.dead - before.dead,
    };
  }

  stop(options: { timeoutMs?: number } = {}): Promise<void> {
    this.stopping ??= this.shutdown(options.timeoutMs ?? this.stopTimeoutMs);
    return this.stopping;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    this.isRunning = false;
    this.nudge();
    await this.loopDone;
    // Claimed but never started: give them back with their attempt, claimable at once.
    const unstarted = this.queue.splice(0);
    await this.releaseJobs(unstarted);
    if (!(await this.waitForActive(timeoutMs))) {
      for (const job of this.active) abortJob(job, new Error('relay stopping'));
      // A publisher that honours its signal settles now; one that does not is cut off.
      if (!(await this.waitForActive(1000))) {
        const cutOff = [...this.active];
        this.active.clear();
        await this.releaseJobs(cutOff);
      }
    }
    await this.flushUntilEmpty();
    if (this.closePublishers) {
      for (const p of new Set(Object.values(this.publishers))) {
        await p.close?.().catch((error: unknown) => this.report(error, `closing publisher ${p.name} failed`));
      }
    }
    this.logger.info({ ...this.totals }, 'relay stopped');
  }

  private async releaseJobs(jobs: Job[]): Promise<void> {
    if (jobs.length === 0) return;
    try {
      await this.store.release(this.run, {
        ids: jobs.map((j) => j.message.id),
        started: jobs.map((j) => j.started),
        workerId: this.workerId,
        now: this.clock.now(),
      });
    } catch (error) {
      // Not fatal: the leases expire and the rows come back anyway, just later.
      this.report(error, 'releasing leases failed; they will expire instead');
    }
  }

  private async loop(): Promise<void> {
    let errorsInRow = 0;
    while (this.isRunning) {
      try {
        // Prefetch: claim the next batch while the current one is still publishing.
        const want = this.claimRoom();
        if (want > 0) {
          const wakesBefore = this.wakes;
          const jobs = await this.claim(want);
          errorsInRow = 0;
          if (jobs.length > 0) {
            this.queue.push(...jobs);
            this.pump();
            if (jobs.length === want) continue;
            // Found what the last wake-up announced, unless another came in during the claim.
            if (this.wakes === wakesBefore) this.wakeRecheck = -1;
            this.lastFoundAt = performance.now();
          }
          // A wake-up's row may not be committed yet: look again soon, also while busy.
          const recheckMs = WAKE_RECHECK_MS[this.wakeRecheck];
          if (recheckMs !== undefined) {
            this.wakeRecheck++;
            await this.sleep(Math.min(this.pollIntervalMs, recheckMs));
            continue;
          }
          this.wakeRecheck = -1;
          // Messages flowed recently: poll at the busy interval. Finished publishes nudge the
          // loop, so an empty claim right after a full one is normal under a steady stream and
          // must not drop the relay back to the idle interval.
          if (performance.now() - this.lastFoundAt < BUSY_WINDOW_MS) {
            await this.sleep(Math.min(this.pollIntervalMs, BUSY_POLL_INTERVAL_MS));
            continue;
          }
        }
        await this.sleep(this.pollIntervalMs);
      } catch (error) {
        errorsInRow++;
        this.report(error, 'claiming failed; retrying');
        await this.sleep(Math.min(MAX_ERROR_BACKOFF_MS, this.pollIntervalMs * 2 ** errorsInRow));
      }
    }
  }

  /**
   * How many rows the next claim should ask for: 0 while the relay holds a batch or more, or
   * as much as its hold cap allows.
   */
  private claimRoom(): number {
    const held = this.queue.length + this.active.size;
    const cap = this.holdCap();
    return held < Math.min(this.batchSize, cap) ? Math.min(this.batchSize, cap - held) : 0;
  }

  /**
   * How many messages the relay may hold (claimed, queued or publishing). Up to two batches, so
   * the next one is claimed while the current one publishes, but never more than it can start
   * within half a lease at the pace publishes take: a claimed message waiting in the queue
   * while its lease runs out would be claimed again by another relay and sent twice.
   * Never below the concurrency (those start at once).
   */
  private holdCap(): number {
    const twoBatches = 2 * this.batchSize;
    // Pace unknown yet: two rounds of the concurrency, so a slow publisher's first claim
    // cannot outlast its lease; the first outcomes set the real budget.
    if (this.avgPublishMs === undefined) return Math.min(this.batchSize, 2 * this.concurrency);
    const budget = Math.floor(((this.leaseMs / 2) * this.concurrency) / Math.max(this.avgPublishMs, 0.001));
    return Math.max(Math.min(this.concurrency, this.batchSize), Math.min(twoBatches, budget));
  }

  private async sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wakeUp = undefined;
        resolve();
      }
      this.wakeUp = done;
    });
    this.woken = false;
  }

  private async claim(limit: number): Promise<Job[]> {
    const started = performance.now();
    const now = this.clock.now();
    const rows = await this.store.claim(this.run, {
      now,
      leaseMs: this.leaseMs,
      limit,
      workerId: this.workerId,
    });
    const durationMs = performance.now() - started;
    this.totals.claimBatches++;
    this.totals.claimed += rows.length;
    if (rows.length > 0) this.emit('claimed', rows.length, { durationMs });
    const leaseEnd = now.getTime() + this.leaseMs;
    return rows.map((row) => ({ message: new ClaimedMessage(row), leaseEnd, started: false }));
  }

  /** Starts queued jobs up to the concurrency limit. */
  private pump(): void {
    const nowMs = this.queue.length > 0 ? this.clock.now().getTime() : 0;
    while (this.active.size < this.concurrency && this.queue.length > 0) {
      const job = this.queue.shift()!;
      // A job whose lease ran out while it waited may already be with another relay.
      if (nowMs >= job.leaseEnd) {
        this.logger.warn(
          { messageId: job.message.messageId },
          'lease expired before publishing; leaving it to the next claim',
        );
        continue;
      }
      job.started = true;
      this.active.add(job);
      void this.deliver(job).then((outcome) => {
        if (!this.active.delete(job)) return; // cut off by stop(): already released
        this.avgPublishMs =
          this.avgPublishMs === undefined
            ? outcome.durationMs
            : this.avgPublishMs + 0.05 * (outcome.durationMs - this.avgPublishMs);
        this.outcomes.push(outcome);
        this.flush();
        this.pump();
        if (this.active.size === 0) this.activeSettled?.();
        if (this.claimRoom() > 0) this.nudge();
      });
    }
    if (this.active.size === 0) this.activeSettled?.();
  }

  private route(destination: string): Publisher | undefined {
    const exact = this.publishers[destination];
    if (exact) return exact;
    const colon = destination.indexOf(':');
    return colon > 0 ? this.publishers[destination.slice(0, colon)] : undefined;
  }

  private async deliver(job: Job): Promise<Outcome> {
    const message = job.message;
    const started = performance.now();
    const publisher = this.route(message.destination);
    if (!publisher) {
      const known = Object.keys(this.publishers).join(', ');
      return {
        kind: 'failed',
        job,
        error: undefined,
        reason: `no publisher for destination "${message.destination}" (configured: ${known})`,
        permanent: true,
        durationMs: 0,
      };
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await new Promise((resolve, reject) => {
        // A publisher that ignores its signal must not keep the attempt open forever.
        timer = setTimeout(() => {
          const error = new TransientPublishError(`publish timed out after ${this.publishTimeoutMs} ms`);
          abortJob(job, error);
          reject(error);
        }, this.publishTimeoutMs);
        try {
          Promise.resolve(publisher.publish(message, publishContext(job, this.logger, publisher.name))).then(
            resolve,
            reject,
          );
        } catch (error) {
          reject(error); // thrown synchronously: the same as a rejection
        }
      });
      return { kind: 'delivered', job, result, durationMs: performance.now() - started };
    } catch (error) {
      const permanent = error instanceof PermanentPublishError;
      const retryAfterMs = error instanceof TransientPublishError ? error.retryAfterMs : undefined;
      return {
        kind: 'failed',
        job,
        error,
        reason: describeError(error),
        permanent,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        durationMs: performance.now() - started,
      };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves true when nothing is publishing, false when `timeoutMs` passed first. */
  private async waitForActive(timeoutMs: number): Promise<boolean> {
    if (this.active.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const settled = await Promise.race([
      new Promise<true>((resolve) => {
        this.activeSettled = () => resolve(true);
      }),
      ...(Number.isFinite(timeoutMs)
        ? [new Promise<false>((r) => (timer = setTimeout(() => r(false), timeoutMs)))]
        : []),
    ]);
    clearTimeout(timer);
    this.activeSettled = undefined;
    return settled;
  }

  /**
   * Writes back finished outcomes. While one write is running, new outcomes pile up and the
   * next write takes them all: one statement per batch under load, no added latency when idle.
   */
  private flush(): Promise<void> {
    this.flushing ??= (async () => {
      let errorsInRow = 0;
      try {
        while (this.outcomes.length > 0) {
          const batch = this.outcomes.splice(0);
          try {
            await this.writeBack(batch);
            errorsInRow = 0;
          } catch (error) {
            // Keep them: a delivered message must end up marked delivered, or its lease
            // expires and it is sent again. Retry with backoff until the database answers.
            this.outcomes.unshift(...batch);
            errorsInRow++;
            this.report(error, 'writing back results failed; retrying');
            await new Promise((r) => setTimeout(r, Math.min(MAX_ERROR_BACKOFF_MS, 10 * 2 ** errorsInRow)));
            if (this.stopping && errorsInRow > 8) {
              this.logger.error(
                { pending: this.outcomes.length },
                'giving up write-back on stop; leases will expire',
              );
              this.outcomes.length = 0;
            }
          }
        }
      } finally {
        this.flushing = undefined;
      }
    })();
    return this.flushing;
  }

  private async flushUntilEmpty(): Promise<void> {
    while (this.flushing || this.outcomes.length > 0) await this.flush();
  }

  private async writeBack(batch: Outcome[]): Promise<void> {
    const now = this.clock.now();
    const delivered = batch.filter(
      (o): o is Extract<Outcome, { kind: 'delivered' }> => o.kind === 'delivered',
    );
    const failed = batch.filter((o): o is Extract<Outcome, { kind: 'failed' }> => o.kind === 'failed');
    const failedRows: FailedRow[] = failed.map((o) => {
      const m = o.job.message;
      const exhausted = m.attempts >= m.maxAttempts;
      const dead = o.permanent || exhausted;
      const delayMs = o.retryAfterMs ?? backoffDelayMs(m.attempts, this.retry, this.random);
      return {
        id: m.id,
        attempts: m.attempts,
        availableAt: new Date(now.getTime() + (dead ? 0 : delayMs)),
        error: !o.permanent && exhausted ? `gave up after ${m.attempts} attempts: ${o.reason}` : o.reason,
        dead,
      };
    });
    if (delivered.length > 0) {
      await this.store.markDelivered(this.run, {
        ids: delivered.map((o) => o.job.message.id),
        results: delivered.map((o) => resultJson(o.result)),
        now,
      });
    }
    if (failedRows.length > 0) {
      await this.store.markFailed(this.run, { rows: failedRows, workerId: this.workerId, now });
    }
    // Events after the write: a listener sees what the table says.
    for (const o of delivered) {
      this.totals.delivered++;
      this.emit('delivered', o.job.message, { durationMs: o.durationMs, result: o.result });
    }
    failed.forEach((o, i) => {
      const row = failedRows[i]!;
      const m = o.job.message;
      if (row.dead) {
        this.totals.dead++;
        this.logger.warn(
          { messageId: m.messageId, type: m.type, destination: m.destination, reason: row.error },
          'dead-lettered',
        );
        this.emit('dead', m, row.error);
      } else {
        this.totals.retried++;
        this.logger.debug(
          { messageId: m.messageId, attempt: m.attempts, retryAt: row.availableAt, reason: row.error },
          'will retry',
        );
        this.emit('failed', m, o.error, { retryAt: row.availableAt, durationMs: o.durationMs });
      }
    });
  }

  private report(error: unknown, msg: string): void {
    this.totals.errors++;
    this.logger.error({ err: describeError(error) }, msg);
    // EventEmitter throws on 'error' without listeners; the relay must keep running instead.
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}
