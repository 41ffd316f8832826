import { type Clock, epochMs, sleep } from '../foundation/clock.js';
import { describeError, OutboxError } from '../foundation/errors.js';
import type { Logger } from '../foundation/logger.js';
import type { RunSql } from '../foundation/queryable.js';

/** PostgreSQL's lock_not_available, raised when lock_timeout expires. */
const LOCK_NOT_AVAILABLE = '55P03';
/** The longest pause between two tries. */
const MAX_BACKOFF_MS = 2_000;

/**
 * The zero-downtime habit for catalog changes: a transaction that needs a table lock waits for
 * it at most `lockTimeoutMs` (a waiting ACCESS EXCLUSIVE request queues every producer behind
 * it), then rolls back and is tried again after a growing pause, until `budgetMs` has passed
 * since the first try (`MIGRATION_LOCK_TIMEOUT`).
 *
 * @example
 * const polite = new PoliteLocks({ schema: 'outbox', lockTimeoutMs: 100, budgetMs: 300_000 });
 * await polite.retry(() => withTransaction(db, async (run) => { await polite.limit(run); ... }));
 */
export class PoliteLocks {
  /** Tries that gave up on a lock and were repeated. */
  retries = 0;
  private readonly startedMs: number;

  constructor(
    private readonly o: {
      schema: string;
      lockTimeoutMs: number;
      budgetMs: number;
      logger?: Logger | undefined;
      clock?: Clock | undefined;
    },
  ) {
    this.startedMs = epochMs(o.clock);
  }

  /** Sets the transaction's lock_timeout; call it first thing after any lock that may rightly wait. */
  async limit(run: RunSql): Promise<void> {
    await run(`select set_config('lock_timeout', $1, true)`, [`${this.o.lockTimeoutMs}ms`]);
  }

  /** Runs `attempt` (one whole transaction) until it is not refused a lock, within the budget. */
  async retry<T>(attempt: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await attempt();
      } catch (error) {
        if (!isLockTimeout(error)) throw error;
        this.retries++;
        const waitedMs = epochMs(this.o.clock) - this.startedMs;
        if (waitedMs >= this.o.budgetMs) {
          throw new OutboxError(
            'MIGRATION_LOCK_TIMEOUT',
            `migrate gave up after ${waitedMs} ms and ${this.retries} tries: another transaction kept a lock on ` +
              `schema ${this.o.schema} longer than lockTimeoutMs (${this.o.lockTimeoutMs} ms) every time ` +
              `(${describeError(error)}); find it in pg_stat_activity (a long or idle-in-transaction session), ` +
              'end it, and run migrate again',
            { cause: error },
          );
        }
        const backoffMs = Math.min(MAX_BACKOFF_MS, 50 * 2 ** Math.min(this.retries - 1, 6));
        this.o.logger?.warn(
          { schema: this.o.schema, retry: this.retries, backoffMs, err: describeError(error) },
          'migrate: a table lock was busy; stepped back so producers are not queued behind it, retrying',
        );
        await sleep(this.o.clock, backoffMs * (0.5 + Math.random() / 2));
      }
    }
  }
}

function isLockTimeout(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if ((e as { code?: unknown }).code === LOCK_NOT_AVAILABLE) return true;
  }
  return false;
}
