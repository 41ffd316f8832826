import { OutboxValidationError } from '../foundation/errors.js';

/**
 * Exponential backoff with jitter: attempt n waits `baseDelayMs * factor^(n-1)`, capped at
 * `maxDelayMs`, then spread by ±`jitter` (a fraction) so failing messages do not retry in lockstep.
 */
export interface RetryPolicy {
  readonly baseDelayMs: number;
  readonly factor: number;
  readonly maxDelayMs: number;
  /** 0 = none, 0.2 = ±20%. */
  readonly jitter: number;
}

/** 1 s, 2 s, 4 s ... capped at 1 hour, ±20%. With 25 attempts that spans about a day. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseDelayMs: 1000,
  factor: 2,
  maxDelayMs: 3_600_000,
  jitter: 0.2,
};

/**
 * Fills in and validates a partial policy.
 *
 * @example
 * resolveRetryPolicy({ baseDelayMs: 500 }) // { baseDelayMs: 500, factor: 2, maxDelayMs: 3600000, jitter: 0.2 }
 */
export function resolveRetryPolicy(partial: Partial<RetryPolicy> = {}): RetryPolicy {
  const p = { ...DEFAULT_RETRY_POLICY, ...partial };
  const check = (ok: boolean, field: string, rule: string, value: unknown) => {
    if (!ok)
      throw new OutboxValidationError(`retry.${field}`, `must be ${rule}, got ${JSON.stringify(value)}`);
  };
  check(Number.isFinite(p.baseDelayMs) && p.baseDelayMs >= 0, 'baseDelayMs', 'a number >= 0', p.baseDelayMs);
  check(Number.isFinite(p.factor) && p.factor >= 1, 'factor', 'a number >= 1', p.factor);
  check(
    Number.isFinite(p.maxDelayMs) && p.maxDelayMs >= p.baseDelayMs,
    'maxDelayMs',
    '>= baseDelayMs',
    p.maxDelayMs,
  );
  check(Number.isFinite(p.jitter) && p.jitter >= 0 && p.jitter <= 1, 'jitter', 'between 0 and 1', p.jitter);
  return p;
}

/**
 * Delay before the retry that follows failed attempt number `attempt` (1-based).
 * `random` returns [0, 1); inject a fixed one for exact tests.
 *
 * @example
 * backoffDelayMs(3, { baseDelayMs: 1000, factor: 2, maxDelayMs: 60_000, jitter: 0 }) // 4000
 */
export function backoffDelayMs(
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(
    policy.maxDelayMs,
    policy.baseDelayMs * policy.factor ** Math.max(0, attempt - 1),
  );
  const spread = exponential * policy.jitter;
  const jittered = exponential - spread + random() * 2 * spread;
  return Math.round(Math.max(0, Math.min(policy.maxDelayMs, jittered)));
}
