import { OutboxValidationError } from '../foundation/errors.js';
import { type IntBounds, requireInt } from '../foundation/option-checks.js';

/** Attempts a destination must have in the window before its breaker may open. */
export const DEFAULT_BREAKER_MIN_ATTEMPTS = 10;
/** The sliding window the opening rule looks at. */
export const DEFAULT_BREAKER_WINDOW_MS = 30_000;
/** Share of transient failures among the window's attempts that opens the breaker. */
export const DEFAULT_BREAKER_FAILURE_RATIO = 0.9;
/** First probe interval after opening; doubled after each failed probe. */
export const DEFAULT_BREAKER_PROBE_MS = 5_000;
/** Longest probe interval. */
export const DEFAULT_BREAKER_PROBE_MAX_MS = 300_000;

/** Ranges of the breaker's integer options, read by the validator and the binary's settings. */
export const BREAKER_OPTION_BOUNDS = {
  minAttempts: { min: 1, max: 1_000_000 },
  windowMs: { min: 100, max: 86_400_000 },
  probeMs: { min: 10, max: 86_400_000 },
  probeMaxMs: { min: 10, max: 86_400_000 },
} as const satisfies Record<string, IntBounds>;

/**
 * The circuit breaker of `createRelay` (docs/destinations.md#circuit-breaker). A destination
 * whose attempts fail transiently at a high rate opens: its messages wait (no attempt used, none
 * dead-lettered) and one probe message is sent per probe interval until one gets through.
 */
export interface BreakerOptions {
  /** Default true. */
  enabled?: boolean;
  /** Default 10. */
  minAttempts?: number;
  /** Default 30 000. */
  windowMs?: number;
  /** (0, 1], default 0.9. */
  failureRatio?: number;
  /** Default 5 000. */
  probeMs?: number;
  /** Default 300 000. */
  probeMaxMs?: number;
}

/** Breaker options after defaults and validation. */
export type ResolvedBreakerOptions = Required<BreakerOptions>;

/**
 * Validates the breaker options and fills in the defaults, naming the first bad field.
 *
 * @example
 * resolveBreakerOptions({ probeMs: 200 }).probeMaxMs // 300000
 */
export function resolveBreakerOptions(options: BreakerOptions | undefined): ResolvedBreakerOptions {
  const o = options ?? {};
  if (typeof o !== 'object') throw new OutboxValidationError('breaker', 'must be an object');
  if (o.enabled !== undefined && typeof o.enabled !== 'boolean')
    throw new OutboxValidationError(
      'breaker.enabled',
      `must be true or false, got ${JSON.stringify(o.enabled)}`,
    );
  const B = BREAKER_OPTION_BOUNDS;
  const ratio = o.failureRatio ?? DEFAULT_BREAKER_FAILURE_RATIO;
  if (typeof ratio !== 'number' || !(ratio > 0 && ratio <= 1))
    throw new OutboxValidationError(
      'breaker.failureRatio',
      `must be a number in (0, 1], got ${JSON.stringify(ratio)}`,
    );
  const probeMs = requireInt(o.probeMs ?? DEFAULT_BREAKER_PROBE_MS, 'breaker.probeMs', B.probeMs);
  const probeMaxMs = requireInt(
    o.probeMaxMs ?? Math.max(DEFAULT_BREAKER_PROBE_MAX_MS, probeMs),
    'breaker.probeMaxMs',
    B.probeMaxMs,
  );
  if (probeMaxMs < probeMs)
    throw new OutboxValidationError(
      'breaker.probeMaxMs',
      `must be at least probeMs (${probeMs}), got ${probeMaxMs}`,
    );
  return {
    enabled: o.enabled ?? true,
    minAttempts: requireInt(
      o.minAttempts ?? DEFAULT_BREAKER_MIN_ATTEMPTS,
      'breaker.minAttempts',
      B.minAttempts,
    ),
    windowMs: requireInt(o.windowMs ?? DEFAULT_BREAKER_WINDOW_MS, 'breaker.windowMs', B.windowMs),
    failureRatio: ratio,
    probeMs,
    probeMaxMs,
  };
}
