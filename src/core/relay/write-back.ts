import { errorBackoffMs } from './error-backoff.js';
import { type Clock, epochMs, sleep } from '../foundation/clock.js';
import type { Logger } from '../foundation/logger.js';
import type { OutboxMessage } from '../foundation/message.js';
import type { Outcome } from './publish-attempt.js';
import type { RunSql } from '../foundation/queryable.js';
import { backoffDelayMs, type RetryPolicy } from './retry-policy.js';
import { clampRetryAfterMs, isDataError, resultJson, storableText } from '../foundation/storable.js';
import type { DeadReason, FailedRow, OutboxStore, WrittenRow } from '../store/index.js';
import { type AttemptLogMode, attemptRecord } from './attempt-record.js';

/** The pause reason a 410 Gone (a `DestinationGoneError`) writes. */
export const GONE_PAUSE_REASON = 'gone';

/** Failed write-back rounds after which a stopping relay gives up and leaves rows to lease expiry. */
const STOP_GIVE_UP_ROUNDS = 8;

/** What the database accepted, for the relay to count and announce. */
export type Written =
  | { kind: 'delivered'; message: OutboxMessage; result: unknown; durationMs: number }
  | { kind: 'failed'; message: OutboxMessage; error: unknown; retryAt: Date; durationMs: number }
  | { kind: 'dead'; message: OutboxMessage; reason: string; deadReason: DeadReason }
  /** Its message_id was delivered before (archived): the row left the table, never sent again. */
  | { kind: 'duplicate'; message: OutboxMessage }
  /** Its destination is gone: the row waits, and the destination is paused fleet-wide. */
  | { kind: 'paused'; message: OutboxMessage; reason: string; error: unknown; durationMs: number };

/** What the write-back needs from its relay. */
export interface WriteBackOptions {
  store: OutboxStore;
  run: RunSql;
  workerId: string;
  /** Which attempts the write-back statements also append to the attempt log. */
  attemptLog: AttemptLogMode;
  retry: RetryPolicy;
  random: () => number;
  /** Caps every row's max_attempts (the relay's `maxAttempts`). */
  maxAttempts: number | undefined;
  /** A test's clock; undefined: the database's now(). */
  clock: Clock | undefined;
  logger: Logger;
  /** Called after each statement, with what it confirmed. Never throws (the relay isolates listeners). */
  onWritten: (written: Written) => void;
  /** Logs and counts a database error. */
  onError: (error: unknown, msg: string) => void;
  isStopping: () => boolean;
}

type Of<K extends Outcome['kind']> = Extract<Outcome, { kind: K }>;

/**
 * Writes finished outcomes back to the table. While one write is running, new outcomes pile up
 * and the next write takes them all: one statement per kind per batch under load, no added
 * latency when idle. A batch the database refuses for its data (a value PostgreSQL cannot
 * store) is split and written row by row, so one bad row never blocks the others.
 *
 * @example
 * const writeBack = new WriteBack({ store, run, workerId, ... });
 * writeBack.add(outcome); await writeBack.drain();
 */
export class WriteBack {
  private readonly queue: Outcome[] = [];
  private flushing: Promise<void> | undefined;

  constructor(private readonly o: WriteBackOptions) {}

  /** Queues an outcome and starts a write if none is running. */
  add(outcome: Outcome): void {
    this.queue.push(outcome);
    void this.flush();
  }

  /** Resolves when everything queued so far is written (or given up on stop). */
  async drain(): Promise<void> {
    while (this.flushing || this.queue.length > 0) await this.flush();
  }

  private flush(): Promise<void> {
    this.flushing ??= (async () => {
      let errorsInRow = 0;
      try {
        while (this.queue.length > 0) {
          const batch = this.queue.splice(0);
          const done = new Set<Outcome>();
          try {
            await this.write(batch, done);
            errorsInRow = 0;
          } catch (error) {
            // Keep what is not written: a delivered message must end up marked delivered, or its
            // lease expires and it is sent again. Retry with backoff until the database answers.
            this.queue.unshift(...batch.filter((x) => !done.has(x)));
            errorsInRow++;
            this.o.onError(error, 'writing back results failed; retrying');
            await sleep(this.o.clock, errorBackoffMs(10, errorsInRow));
            if (this.o.isStopping() && errorsInRow > STOP_GIVE_UP_ROUNDS) {
              this.o.logger.error(
                { pending: this.queue.length },
                'giving up write-back on stop; leases will expire',
              );
              this.queue.length = 0;
            }
          }
        }
      } finally {
        this.flushing = undefined;
      }
    })();
    return this.flushing;
  }

  private async write(batch: Outcome[], done: Set<Outcome>): Promise<void> {
    const delivered = batch.filter((x): x is Of<'delivered'> => x.kind === 'delivered');
    const failed = batch.filter((x): x is Of<'failed'> => x.kind === 'failed');
    const released = batch.filter((x): x is Of<'released'> => x.kind === 'released');
    if (delivered.length > 0) await this.isolating(delivered, done, (part) => this.writeDelivered(part));
    if (failed.length > 0) await this.isolating(failed, done, (part) => this.writeFailed(part));
    if (released.length > 0) {
      await this.o.store.release(this.o.run, {
        ids: released.map((x) => x.job.message.id),
        started: released.map(() => false),
        attempts: released.map((x) => x.job.message.attempts),
        workerId: this.o.workerId,
      });
      for (const x of released) done.add(x);
    }
  }

  /**
   * Writes `part` in one statement; on a data error (SQLSTATE class 22/23) splits it down to
   * single rows, and a single row that still fails is written in its storable fallback form.
   */
  private async isolating<T extends Outcome>(
    part: T[],
    done: Set<Outcome>,
    writeRows: (rows: T[]) => Promise<void>,
  ): Promise<void> {
    try {
      await writeRows(part);
      for (const x of part) done.add(x);
    } catch (error) {
      if (!isDataError(error)) throw error;
      if (part.length > 1) {
        for (const x of part) await this.isolating([x], done, writeRows);
        return;
      }
      const [x] = part as Outcome[];
      await this.writeUnstorable(x!, error);
      done.add(x!);
    }
  }

  private async writeDelivered(part: Of<'delivered'>[]): Promise<void> {
    const nowMs = performance.now();
    const { missing, duplicates } = await this.o.store.markDelivered(this.o.run, {
      ids: part.map((x) => x.job.message.id),
      results: part.map((x) => resultJson(x.result)),
      ...this.now(),
      ...(this.o.attemptLog === 'all'
        ? { log: { workerId: this.o.workerId, records: part.map((x) => attemptRecord(x, nowMs)) } }
        : {}),
    });
    const lost = missing.length > 0 ? new Set(missing) : undefined;
    const dup = duplicates.length > 0 ? new Set(duplicates) : undefined;
    for (const x of part) {
      const m = x.job.message;
      if (lost?.has(m.id)) this.leaseLost(m, 'delivered');
      else if (dup?.has(m.id)) this.duplicate(m, 'delivered');
      else this.o.onWritten({ kind: 'delivered', message: m, result: x.result, durationMs: x.durationMs });
    }
  }

  private async writeFailed(part: Of<'failed'>[]): Promise<void> {
    const rows = part.map((x) => this.failedRow(x));
    const confirmed = byId(
      await this.o.store.markFailed(this.o.run, {
        rows,
        workerId: this.o.workerId,
        log: this.o.attemptLog !== 'off',
        ...this.now(),
      }),
    );
    // The retry time as this process sees it (for the event); the row holds the database's.
    const nowMs = epochMs(this.o.clock);
    part.forEach((x, i) => {
      const row = rows[i]!;
      const m = x.job.message;
      const written = confirmed.get(m.id);
      if (!written) {
        this.leaseLost(m, row.deadReason ? 'dead' : 'failed');
      } else if (written.duplicate) {
        this.duplicate(m, row.deadReason ? 'dead' : 'failed');
      } else if (row.pauseReason) {
        this.o.logger.warn(
          { messageId: m.messageId, destination: m.destination, reason: row.error },
          'destination gone: paused for every relay until resumed; the message waits',
        );
        this.o.onWritten({
          kind: 'paused',
          message: m,
          reason: row.pauseReason,
          error: x.error,
          durationMs: x.durationMs,
        });
      } else if (row.deadReason) {
        this.o.logger.warn(
          { messageId: m.messageId, type: m.type, destination: m.destination, reason: row.error },
          'dead-lettered',
        );
        this.o.onWritten({ kind: 'dead', message: m, reason: row.error, deadReason: row.deadReason });
      } else {
        const retryAt = new Date(nowMs + row.delayMs);
        this.o.logger.debug(
          { messageId: m.messageId, attempt: m.attempts, retryAt, reason: row.error },
          'will retry',
        );
        this.o.onWritten({ kind: 'failed', message: m, error: x.error, retryAt, durationMs: x.durationMs });
      }
    });
  }

  private failedRow(x: Of<'failed'>): FailedRow {
    const m = x.job.message;
    const maxAttempts = Math.min(m.maxAttempts, this.o.maxAttempts ?? m.maxAttempts);
    const deadReason = x.gone
      ? null
      : x.unroutable
        ? 'unroutable'
        : x.permanent
          ? 'permanent'
          : // A failed probe of an open breaker is the outage's measurement, not the message's
            // failure: it never dead-letters (docs/destinations.md#circuit-breaker).
            m.attempts >= maxAttempts && !x.job.probe
            ? 'max_attempts'
            : null;
    const retryAfterMs = clampRetryAfterMs(x.retryAfterMs, this.o.retry.maxDelayMs);
    return {
      id: m.id,
      attempts: m.attempts,
      delayMs: deadReason ? 0 : (retryAfterMs ?? backoffDelayMs(m.attempts, this.o.retry, this.o.random)),
      error: storableText(
        deadReason === 'max_attempts' ? `gave up after ${m.attempts} attempts: ${x.reason}` : x.reason,
      ),
      deadReason,
      messageId: m.messageId,
      destination: m.destination,
      record: attemptRecord(x, performance.now()),
      pauseReason: x.gone ? GONE_PAUSE_REASON : null,
    };
  }

  /**
   * The last resort for one row the database refused: a delivered one is marked delivered
   * without its result; a failed one dead, saying its error could not be stored. If even that
   * is refused, the row is left to lease expiry (logged), never retried in a loop.
   */
  private async writeUnstorable(x: Outcome, error: unknown): Promise<void> {
    const m = x.job.message;
    const why = storableText(error instanceof Error ? error.message : String(error), 1024);
    this.o.logger.warn(
      { messageId: m.messageId, kind: x.kind, err: why },
      'outcome could not be stored as it was',
    );
    try {
      if (x.kind === 'delivered') {
        await this.writeDelivered([{ ...x, result: undefined }]);
      } else if (x.kind === 'failed') {
        const row: FailedRow = {
          ...this.failedRow(x),
          delayMs: 0,
          deadReason: 'unstorable_result',
          // Not the refused text again: it would most likely be refused again.
          error: `the outcome of attempt ${m.attempts} could not be stored: ${why}`,
        };
        const [written] = await this.o.store.markFailed(this.o.run, {
          rows: [row],
          workerId: this.o.workerId,
          log: this.o.attemptLog !== 'off',
          ...this.now(),
        });
        if (!written) this.leaseLost(m, 'dead');
        else if (written.duplicate) this.duplicate(m, 'dead');
        else
          this.o.onWritten({ kind: 'dead', message: m, reason: row.error, deadReason: 'unstorable_result' });
      }
    } catch (again) {
      if (!isDataError(again)) throw again;
      this.o.onError(again, `could not store any outcome for message ${m.messageId}; its lease will expire`);
    }
  }

  private duplicate(m: OutboxMessage, outcome: string): void {
    this.o.logger.warn(
      { messageId: m.messageId, attempt: m.attempts, outcome },
      'duplicate: this message_id was delivered before (it is in the archive); the row is removed, not sent again',
    );
    this.o.onWritten({ kind: 'duplicate', message: m });
  }

  private leaseLost(m: OutboxMessage, outcome: string): void {
    this.o.logger.info(
      { messageId: m.messageId, attempt: m.attempts, outcome },
      'lease lost: another relay owns the row now; its outcome counts, this one is dropped',
    );
  }

  private now(): { clock?: Clock } {
    return this.o.clock ? { clock: this.o.clock } : {};
  }
}

function byId(rows: readonly WrittenRow[]): Map<string, WrittenRow> {
  return new Map(rows.map((r) => [r.id, r]));
}
