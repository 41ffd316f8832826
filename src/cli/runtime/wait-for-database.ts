import { OutboxError } from '../../core/foundation/errors.js';

/** First pause after a failed attempt; it doubles up to `DB_WAIT_MAX_DELAY_MS`. */
export const DB_WAIT_INITIAL_DELAY_MS = 250;
/** Longest pause between two attempts. */
export const DB_WAIT_MAX_DELAY_MS = 5_000;
/** How long one-shot commands (`run`, `stats`, `migrate`...) wait by default; `start` waits forever. */
export const DEFAULT_ONE_SHOT_DB_WAIT_MS = 60_000;

/** The database did not answer within the wait's timeout (`DB_WAIT_TIMEOUT_MS`). */
export class DatabaseWaitTimeoutError extends OutboxError {
  /**
   * @example
   * throw new DatabaseWaitTimeoutError('the database at db:5432 did not answer within 60000 ms');
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super('DB_WAIT_TIMEOUT', message, options);
  }
}

/** How `waitForDatabase` retries. */
export interface DatabaseWaitOptions {
  /** Give up after this long; undefined waits for as long as it takes. */
  readonly timeoutMs: number | undefined;
  /** Ends the wait at once (SIGTERM); the wait then resolves with `undefined`. */
  readonly signal?: AbortSignal;
  /** Says where the database is, for the timeout message: host and port, never the password. */
  readonly address: string;
  /** Called once per failed attempt, before the pause. */
  readonly onRetry?: (failure: { error: unknown; attempt: number; retryInMs: number }) => void;
  /** Errors no wait can fix (a wrong password): thrown at once instead of retried. */
  readonly isPermanent?: (error: unknown) => boolean;
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Injected time, so tests check the backoff exactly. */
  readonly now?: () => number;
  readonly sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
}

function realSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Runs `attempt` until it succeeds, pausing with capped exponential backoff between failures:
 * a relay started before its database (compose, Kubernetes, a failover) waits instead of
 * exiting. Resolves with the attempt's result, or with `undefined` when `signal` aborts;
 * rejects with `DatabaseWaitTimeoutError` after `timeoutMs`, or with a permanent error at once.
 *
 * @example
 * const version = await waitForDatabase(() => probe(url), {
 *   timeoutMs: 60_000, address: 'db:5432', onRetry: ({ attempt }) => log.warn({ attempt }, 'waiting'),
 * });
 */
export async function waitForDatabase<T>(
  attempt: () => Promise<T>,
  options: DatabaseWaitOptions,
): Promise<T | undefined> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? realSleep;
  const maxDelayMs = options.maxDelayMs ?? DB_WAIT_MAX_DELAY_MS;
  const deadline = options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : now() + options.timeoutMs;
  let delayMs = options.initialDelayMs ?? DB_WAIT_INITIAL_DELAY_MS;
  for (let n = 1; ; n++) {
    if (options.signal?.aborted) return undefined;
    try {
      const result = await attempt();
      // A signal that came in during a successful attempt still wins: the caller is stopping.
      return options.signal?.aborted ? undefined : result;
    } catch (error) {
      if (options.signal?.aborted) return undefined;
      if (options.isPermanent?.(error)) throw error;
      const left = deadline - now();
      if (left <= 0) {
        throw new DatabaseWaitTimeoutError(
          `the database at ${options.address} did not answer within ${options.timeoutMs} ms (${n} attempts; last: ${
            error instanceof Error ? error.message || error.name : String(error)
          })`,
          { cause: error },
        );
      }
      const retryInMs = Math.min(delayMs, left);
      options.onRetry?.({ error, attempt: n, retryInMs });
      await sleep(retryInMs, options.signal);
      delayMs = Math.min(delayMs * 2, maxDelayMs);
    }
  }
}
