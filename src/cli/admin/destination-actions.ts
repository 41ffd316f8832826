import { OutboxValidationError } from '../../core/foundation/errors.js';
import type { Queryable } from '../../core/foundation/queryable.js';
import {
  pauseDestination,
  resumeDestination,
  retryDestinationNow,
} from '../../core/maintenance/destinations.js';

/** What an operator does to a destination (docs/destinations.md). */
export type DestinationAction = 'pause' | 'resume' | 'retry-now';

/** Every destination action, in the order the CLI and the page show them. */
export const DESTINATION_ACTIONS: readonly DestinationAction[] = ['pause', 'resume', 'retry-now'];

/** One destination action's target: the destination, and for a pause its end and reason. */
export interface DestinationRequest {
  destination: string;
  until?: Date;
  reason?: string;
}

/** What an action did. */
export type DestinationResult =
  | { destination: string; paused: true; held: number; until: Date | null }
  | { destination: string; resumed: boolean; released: number }
  | { destination: string; released: number };

const UNITS_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A pause's end from text: an ISO date/time, or a duration from now like `30m`, `2h`, `1d`.
 * Throws `OutboxValidationError` naming `until`.
 *
 * @example
 * parseUntil('2h', new Date('2030-01-01T10:00:00Z')) // 2030-01-01T12:00:00Z
 */
export function parseUntil(text: string, now = new Date()): Date {
  const span = /^(\d+)([smhd])$/.exec(text.trim());
  const date = span ? new Date(now.getTime() + Number(span[1]) * UNITS_MS[span[2]!]!) : new Date(text);
  if (Number.isNaN(date.getTime()))
    throw new OutboxValidationError(
      'until',
      `must be an ISO date or a duration like 30m, 2h, 1d; got "${text}"`,
    );
  return date;
}

/**
 * The request named by an admin request body `{ destination, until?, reason? }` (the admin
 * routes and the status page's buttons). Throws `OutboxValidationError` naming the bad field.
 *
 * @example
 * destinationRequest({ destination: 'webhook:acme', until: '2h', reason: 'maintenance' })
 */
export function destinationRequest(body: Record<string, unknown>): DestinationRequest {
  const { destination, until, reason } = body;
  if (typeof destination !== 'string' || destination === '')
    throw new OutboxValidationError('destination', 'is required (a destination name)');
  if (until !== undefined && until !== null && until !== '' && typeof until !== 'string')
    throw new OutboxValidationError('until', 'must be an ISO date or a duration like 30m, 2h, 1d');
  if (reason !== undefined && reason !== null && reason !== '' && typeof reason !== 'string')
    throw new OutboxValidationError('reason', 'must be text');
  return {
    destination,
    ...(typeof until === 'string' && until !== '' ? { until: parseUntil(until) } : {}),
    ...(typeof reason === 'string' && reason !== '' ? { reason } : {}),
  };
}

/**
 * Pauses, resumes or "retries now" a destination: the one place the CLI, the admin routes and
 * the status page's buttons act on destinations.
 *
 * @example
 * await runDestinationAction(db, 'outbox', 'pause', { destination: 'webhook:acme', reason: 'maintenance' });
 */
export async function runDestinationAction(
  db: Queryable,
  schema: string,
  action: DestinationAction,
  request: DestinationRequest,
): Promise<DestinationResult> {
  const { destination } = request;
  if (action === 'pause') {
    const r = await pauseDestination(db, destination, {
      schema,
      ...(request.until ? { until: request.until } : {}),
      ...(request.reason ? { reason: request.reason } : {}),
    });
    return { ...r, paused: true };
  }
  if (action === 'resume') return resumeDestination(db, destination, { schema });
  return retryDestinationNow(db, destination, { schema });
}

/**
 * One line saying what an action did, for the CLI and the logs.
 *
 * @example
 * describeDestinationResult('resume', { destination: 'webhook', resumed: true, released: 3 })
 */
export function describeDestinationResult(action: DestinationAction, r: DestinationResult): string {
  if ('held' in r)
    return `paused ${r.destination} ${r.until ? `until ${r.until.toISOString()}` : 'until resumed'}; ${r.held} waiting messages held`;
  if ('resumed' in r)
    return r.resumed
      ? `resumed ${r.destination}; ${r.released} held messages are due now`
      : `${r.destination} was not paused`;
  return `${action}: ${r.released} messages of ${r.destination} waiting on a retry are due now`;
}
