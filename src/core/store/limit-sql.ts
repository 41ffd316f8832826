import type { LimitPattern } from '../foundation/destination-policy.js';
import { destinationRows, routeRows } from './message-columns.js';

/**
 * Where a throttled row waits: its `available_at` is set to this mark, beyond the due range of
 * messages_claim_idx, so the main claim never walks a throttled backlog, and distinct from a
 * pause's `paused_until` (`infinity` or the pause's end), so resuming a pause never releases
 * rows a limit holds, nor the other way round.
 */
export const THROTTLED_AT_SQL = `'9999-12-31 00:00:00+00'::timestamptz`;

/** The kinds of limit pattern (see `LimitPattern`). */
export type LimitKind = LimitPattern['kind'];

/**
 * The index range of a limit's rows, `p` being the SQL of its pattern: messages_route_v2_idx on
 * the route for a destination or a route pattern (a destination's own rows filtered in the
 * heap), messages_tenant_idx on the tenant for a tenant pattern.
 *
 * @example
 * `where ${limitRange('tenant', 'm', '$6')}` // m.tenant_id = substr($6::text, 8)
 */
export function limitRange(kind: LimitKind, m: string, p: string): string {
  if (kind === 'tenant') return `${m}.tenant_id = substr(${p}::text, 8)`;
  return kind === 'route' ? routeRows(m, p) : destinationRows(m, p);
}

/**
 * Rows of the range that this kind of limit governs: one limit governs each message, the most
 * specific that exists (its destination's, else its route's `route:*`, else its tenant's), so a
 * route limit leaves destinations with their own limit alone, and a tenant limit leaves both.
 * `patterns` is the SQL of every limit's pattern (an array).
 *
 * @example
 * governedBy('route', 'm', 'array[...]') // m.destination <> all(array[...])
 */
export function governedBy(kind: LimitKind, m: string, patterns: string): string {
  if (kind === 'destination') return 'true';
  if (kind === 'route') return `${m}.destination <> all(${patterns})`;
  return `not (array[${m}.destination, split_part(${m}.destination, ':', 1) || ':*'] && ${patterns})`;
}
