import {
  type DestinationPolicy,
  parseLimitPattern,
  type ResolvedDestinationPolicy,
  resolveDestinationPolicy,
} from '../foundation/destination-policy.js';
import { OutboxValidationError } from '../foundation/errors.js';
import { type Queryable, sqlRunner, withTransaction } from '../foundation/queryable.js';
import { repeatUntilShort } from '../foundation/repeat-until-short.js';
import { DEFAULT_SCHEMA } from '../foundation/schema-name.js';
import { type DestinationLimitRow, DestinationLimitStore, type DestinationRow } from '../store/index.js';
import type { DestinationOptions, DestinationStatus } from './destinations.js';

/** A limit as `listDestinationPolicies` returns it, with the messages it holds throttled now. */
export type DestinationPolicyStatus = DestinationLimitRow & { throttled: number };

/** Rows released per statement when a limit is cleared. */
const RELEASE_BATCH_SIZE = 5000;

function context(options: DestinationOptions) {
  return {
    store: new DestinationLimitStore(options.schema ?? DEFAULT_SCHEMA),
    clock: options.clock ? { clock: options.clock } : {},
  };
}

/**
 * Limits a destination (`webhook:acme`), every destination of a route (`webhook:*`) or a tenant
 * (`tenant:acme`) for every relay sharing the table, at once and without a restart: at most
 * `ratePerSecond` messages per second (bursts up to `burst`, default one second's worth) and at
 * most `maxInFlight` sent and not yet answered. Messages over the limit wait; they are never
 * skipped, failed or charged an attempt, and per-key order holds. Setting it again replaces it.
 * Throws `OutboxValidationError` naming the bad field.
 *
 * @example
 * await setDestinationPolicy(db, 'webhook:*', { ratePerSecond: 100, burst: 20, maxInFlight: 4 });
 */
export async function setDestinationPolicy(
  db: Queryable,
  pattern: string,
  policy: DestinationPolicy,
  options: DestinationOptions & { source?: 'env' | 'runtime' } = {},
): Promise<{ pattern: string } & ResolvedDestinationPolicy> {
  const parsed = parseLimitPattern(pattern);
  const resolved = resolveDestinationPolicy(policy);
  const { store, clock } = context(options);
  await store.set(sqlRunner(db), {
    ...clock,
    pattern: parsed.pattern,
    policy: resolved,
    source: options.source ?? 'runtime',
  });
  return { pattern: parsed.pattern, ...resolved };
}

/**
 * Removes the limit of `pattern` and makes the messages it held due at once (a message another
 * limit still governs waits on that one). `cleared` is false when there was no such limit.
 *
 * @example
 * const { released } = await clearDestinationPolicy(db, 'webhook:*');
 */
export async function clearDestinationPolicy(
  db: Queryable,
  pattern: string,
  options: DestinationOptions = {},
): Promise<{ pattern: string; cleared: boolean; released: number }> {
  const parsed = parseLimitPattern(pattern);
  const { store, clock } = context(options);
  const run = sqlRunner(db);
  const cleared = await store.clear(run, { pattern: parsed.pattern });
  // Also when there was none: rows a crash left throttled after an earlier clear are freed.
  const released = await repeatUntilShort(RELEASE_BATCH_SIZE, () =>
    store.release(run, { ...clock, pattern: parsed.pattern, kind: parsed.kind, limit: RELEASE_BATCH_SIZE }),
  );
  return { pattern: parsed.pattern, cleared, released };
}

/**
 * Every limit, by pattern, with its bucket (`tokens`: whole messages it would allow now), where it
 * was set (`env` or `runtime`) and how many messages it holds throttled.
 *
 * @example
 * for (const p of await listDestinationPolicies(db)) console.log(p.pattern, p.ratePerSecond, p.maxInFlight, p.throttled);
 */
export async function listDestinationPolicies(
  db: Queryable,
  options: DestinationOptions = {},
): Promise<DestinationPolicyStatus[]> {
  const { store, clock } = context(options);
  const run = sqlRunner(db);
  const [rows, throttled] = await Promise.all([store.list(run, clock), store.throttledCounts(run)]);
  return rows.map((r) => ({ ...r, throttled: throttled.get(r.pattern) ?? 0 }));
}

/**
 * Applies a set of limits as the binary's DESTINATION_LIMITS does at start, in one transaction:
 * each pattern named is set (replacing a runtime `set` of the same pattern), every other limit is
 * left as it is. Validates every entry first; throws `OutboxValidationError` whose field names the
 * bad entry (`["webhook:*"].burst`).
 *
 * @example
 * await applyDestinationPolicies(db, { 'webhook:*': { ratePerSecond: 100, burst: 20 }, 'tenant:acme': { ratePerSecond: 10 } });
 */
export async function applyDestinationPolicies(
  db: Queryable,
  policies: Readonly<Record<string, DestinationPolicy>>,
  options: DestinationOptions = {},
): Promise<number> {
  const resolved = validateDestinationPolicies(policies);
  const { store, clock } = context(options);
  await withTransaction(db, async (run) => {
    for (const [pattern, policy] of resolved)
      await store.set(run, { ...clock, pattern, policy, source: 'env' });
  });
  return resolved.length;
}

/**
 * Validates a map of pattern -> policy (DESTINATION_LIMITS, `applyDestinationPolicies`) and
 * returns it resolved; the error's field names the entry: `["webhook:*"].ratePerSecond`.
 *
 * @example
 * validateDestinationPolicies({ 'tenant:acme': { ratePerSecond: 10 } })
 */
export function validateDestinationPolicies(
  policies: Readonly<Record<string, DestinationPolicy>>,
): Array<[string, ResolvedDestinationPolicy]> {
  if (!policies || typeof policies !== 'object' || Array.isArray(policies))
    throw new OutboxValidationError(
      'policies',
      'must be an object of pattern -> { ratePerSecond?, burst?, maxInFlight? }',
    );
  return Object.entries(policies).map(([pattern, policy]) => {
    try {
      return [parseLimitPattern(pattern).pattern, resolveDestinationPolicy(policy)];
    } catch (error) {
      if (error instanceof OutboxValidationError)
        throw new OutboxValidationError(`[${JSON.stringify(pattern)}].${error.field}`, error.reason);
      throw error;
    }
  });
}

/**
 * `listDestinations`' rows with each one's limit, plus a row per limit pattern no destination
 * row names (unless only paused ones were asked for), by name.
 *
 * @example
 * const rows = await withLimits(db, await store.list(run), { schema: 'outbox' });
 */
export async function withLimits(
  db: Queryable,
  rows: readonly DestinationRow[],
  options: DestinationOptions & { pausedOnly?: boolean },
): Promise<DestinationStatus[]> {
  const limits = new Map((await listDestinationPolicies(db, options)).map((l) => [l.pattern, l]));
  const out: DestinationStatus[] = rows.map((r) => ({ ...r, limit: limits.get(r.name) ?? null }));
  if (options.pausedOnly) return out;
  const named = new Set(rows.map((r) => r.name));
  for (const l of limits.values()) {
    if (named.has(l.pattern)) continue;
    out.push({
      name: l.pattern,
      paused: false,
      pausedUntil: null,
      pausedReason: null,
      pausedAt: null,
      breaker: 'closed',
      breakerOpenedAt: null,
      probeAt: null,
      probeIntervalMs: null,
      updatedAt: l.updatedAt,
      limit: l,
    });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
