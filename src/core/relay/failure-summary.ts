import { type Clock, epochMs } from '../foundation/clock.js';
import type { Logger } from '../foundation/logger.js';

/** How often, at most, a failing destination gets a summary line. */
export const FAILURE_SUMMARY_INTERVAL_MS = 30_000;
/** The last error as quoted in a summary line, in characters. */
const LAST_ERROR_CHARS = 200;

/** What is known about one destination while its attempts fail. */
interface Failing {
  /** When its first failure (since it last delivered) was seen. */
  readonly since: number;
  /** Failures since the last summary line. */
  count: number;
  /** Failures since `since`. */
  total: number;
  /** When the last summary line was written, or when the failures began. */
  windowStart: number;
  last: string;
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > LAST_ERROR_CHARS ? `${text.slice(0, LAST_ERROR_CHARS)}…` : text;
}

function attempts(n: number): string {
  return n === 1 ? '1 attempt' : `${n} attempts`;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
}

/**
 * Makes failing destinations visible at `info`: each retry is logged at debug only, so a 30 s
 * receiver outage (72 failed attempts) once left not one line. A destination's first failure
 * is logged at warn at once, then at most one summary per `intervalMs` while failures go on
 * ("webhook: 72 attempts failed in the last 30 s, last: ..."), and one line when it delivers
 * again. Driven by the relay's write-back outcomes; time from the injected clock. A delivery
 * costs one size check while nothing fails.
 *
 * @example
 * const summary = new FailureSummary({ logger, clock });
 * summary.failed('webhook', error); summary.delivered('webhook');
 */
export class FailureSummary {
  private readonly failing = new Map<string, Failing>();
  private readonly logger: Logger;
  private readonly clock: Clock | undefined;
  private readonly intervalMs: number;

  constructor(options: { logger: Logger; clock?: Clock | undefined; intervalMs?: number }) {
    this.logger = options.logger;
    this.clock = options.clock;
    this.intervalMs = options.intervalMs ?? FAILURE_SUMMARY_INTERVAL_MS;
  }

  /** An attempt for `destination` failed and will be retried. */
  failed(destination: string, error: unknown): void {
    const now = epochMs(this.clock);
    const last = errorText(error);
    const state = this.failing.get(destination);
    if (!state) {
      this.failing.set(destination, { since: now, count: 0, total: 1, windowStart: now, last });
      this.logger.warn(
        { destination, last },
        `${destination}: an attempt failed, retrying (a summary follows every ${seconds(this.intervalMs)} while attempts fail), last: ${last}`,
      );
      return;
    }
    state.count++;
    state.total++;
    state.last = last;
    if (now - state.windowStart < this.intervalMs) return;
    this.logger.warn(
      { destination, failed: state.count, periodMs: now - state.windowStart, last },
      `${destination}: ${attempts(state.count)} failed in the last ${seconds(now - state.windowStart)}, last: ${last}`,
    );
    state.count = 0;
    state.windowStart = now;
  }

  /** A message to `destination` was delivered: if it was failing, say that it recovered. */
  delivered(destination: string): void {
    if (this.failing.size === 0) return;
    const state = this.failing.get(destination);
    if (!state) return;
    this.failing.delete(destination);
    const ms = epochMs(this.clock) - state.since;
    this.logger.info(
      { destination, failed: state.total, periodMs: ms },
      `${destination}: delivering again after ${state.total} failed ${state.total === 1 ? 'attempt' : 'attempts'} in ${seconds(ms)}`,
    );
  }
}
