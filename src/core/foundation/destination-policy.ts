import { OutboxValidationError } from './errors.js';

/**
 * The bounds of a limit, declared once: the library's validator, the CLI flags and
 * DESTINATION_LIMITS all read them.
 */
export const DESTINATION_POLICY_BOUNDS = {
  /** Messages per second; fractions allowed (0.5 = one every 2 s). */
  ratePerSecond: { min: 0.001, max: 1_000_000 },
  burst: { min: 1, max: 1_000_000 },
  maxInFlight: { min: 1, max: 100_000 },
} as const;

/** Longest pattern accepted (a destination name is at most 500 characters too). */
const MAX_PATTERN_CHARS = 500;

/**
 * A limit: at most `ratePerSecond` messages per second with bursts of up to `burst`, and at most
 * `maxInFlight` claimed and not yet finished at once, across every relay sharing the table. At
 * least one of `ratePerSecond` and `maxInFlight` is set.
 *
 * @example
 * const policy: DestinationPolicy = { ratePerSecond: 100, burst: 20, maxInFlight: 4 };
 */
export interface DestinationPolicy {
  ratePerSecond?: number | undefined;
  /** Tokens the bucket holds at most. Default: one second's worth (`ceil(ratePerSecond)`). */
  burst?: number | undefined;
  maxInFlight?: number | undefined;
}

/** A policy after validation and defaults: `burst` is set whenever `ratePerSecond` is. */
export interface ResolvedDestinationPolicy {
  ratePerSecond: number | null;
  burst: number | null;
  maxInFlight: number | null;
}

/**
 * What a limit pattern names: one destination (`webhook:acme`), every destination of a route
 * (`webhook:*`: `webhook` and every `webhook:<x>`), or a tenant's messages (`tenant:acme`, by
 * `tenant_id`). A message is governed by one limit, the most specific that exists: its
 * destination's, else its route's, else its tenant's.
 */
export type LimitPattern =
  | { kind: 'destination'; pattern: string; destination: string; route: string }
  | { kind: 'route'; pattern: string; route: string }
  | { kind: 'tenant'; pattern: string; tenant: string };

/**
 * Reads a limit pattern; throws `OutboxValidationError` naming `pattern` and the forms allowed.
 *
 * @example
 * parseLimitPattern('webhook:*') // { kind: 'route', pattern: 'webhook:*', route: 'webhook' }
 * parseLimitPattern('tenant:acme') // { kind: 'tenant', pattern: 'tenant:acme', tenant: 'acme' }
 */
export function parseLimitPattern(pattern: unknown): LimitPattern {
  const bad = (why: string) =>
    new OutboxValidationError(
      'pattern',
      `${why}: use a destination (webhook:acme), a route's destinations (webhook:*) or a tenant (tenant:acme), got ${JSON.stringify(pattern)}`,
    );
  if (typeof pattern !== 'string' || pattern === '' || pattern.length > MAX_PATTERN_CHARS)
    throw bad(`must be text of 1..${MAX_PATTERN_CHARS} characters`);
  if (pattern.startsWith('tenant:')) {
    const tenant = pattern.slice('tenant:'.length);
    if (tenant === '') throw bad('names no tenant');
    return { kind: 'tenant', pattern, tenant };
  }
  const colon = pattern.indexOf(':');
  const route = colon === -1 ? pattern : pattern.slice(0, colon);
  if (route === '' || route.includes('*')) throw bad('needs a route before any "*"');
  if (pattern.endsWith(':*') && colon === pattern.length - 2) return { kind: 'route', pattern, route };
  if (pattern.includes('*')) throw bad('may end in ":*" only right after the route');
  return { kind: 'destination', pattern, destination: pattern, route };
}

/**
 * Validates a policy and fills in the default burst; throws `OutboxValidationError` naming the
 * field (`ratePerSecond`, `burst`, `maxInFlight`) and its bounds.
 *
 * @example
 * resolveDestinationPolicy({ ratePerSecond: 100 }) // { ratePerSecond: 100, burst: 100, maxInFlight: null }
 */
export function resolveDestinationPolicy(policy: DestinationPolicy): ResolvedDestinationPolicy {
  if (!policy || typeof policy !== 'object')
    throw new OutboxValidationError('policy', 'must be an object { ratePerSecond?, burst?, maxInFlight? }');
  const B = DESTINATION_POLICY_BOUNDS;
  const num = (field: keyof typeof B, integer: boolean): number | null => {
    const v = policy[field];
    if (v === undefined || v === null) return null;
    const { min, max } = B[field];
    if (
      typeof v !== 'number' ||
      !Number.isFinite(v) ||
      v < min ||
      v > max ||
      (integer && !Number.isInteger(v))
    )
      throw new OutboxValidationError(
        field,
        `must be ${integer ? 'an integer' : 'a number'} ${min}..${max}, got ${JSON.stringify(v)}`,
      );
    return v;
  };
  const ratePerSecond = num('ratePerSecond', false);
  const burst = num('burst', true);
  const maxInFlight = num('maxInFlight', true);
  if (ratePerSecond === null && maxInFlight === null)
    throw new OutboxValidationError('policy', 'needs ratePerSecond, maxInFlight or both');
  if (ratePerSecond === null && burst !== null)
    throw new OutboxValidationError('burst', 'goes with ratePerSecond: a burst of what rate?');
  return {
    ratePerSecond,
    burst: ratePerSecond === null ? null : (burst ?? Math.max(1, Math.ceil(ratePerSecond))),
    maxInFlight,
  };
}
