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
 * The range of each policy field, checked by `resolveRetryPolicy` and read by the binary's
 * settings (RETRY_BASE_MS, RETRY_MAX_MS, RETRY_JITTER); `maxDelayMs` must also be >= `baseDelayMs`.
 * Delays stop at about 24.8 days, the longest timer Node.js keeps.
 */
export const RETRY_POLICY_BOUNDS = {
  baseDelayMs: { min: 0, max: 2_147_483_647 },
  maxDelayMs: { min: 0, max: 2_147_483_647 },
  factor: { min: 1, max: 100 },
  jitter: { min: 0, max: 1 },
} as const;

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
  const within = (field: keyof typeof RETRY_POLICY_BOUNDS) => {
    const { min, max } = RETRY_POLICY_BOUNDS[field];
    const value = p[field];
    check(Number.isFinite(value) && value >= min && value <= max, field, `a number ${min}..${max}`, value);
  };
  within('baseDelayMs');
  within('factor');
  within('maxDelayMs');
  within('jitter');
  check(p.maxDelayMs >= p.baseDelayMs, 'maxDelayMs', '>= baseDelayMs', p.maxDelayMs);
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
