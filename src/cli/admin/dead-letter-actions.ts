import { OutboxValidationError } from '../../core/foundation/errors.js';
import { type Queryable, sqlRunner } from '../../core/foundation/queryable.js';
import { type DeadSelector, purgeDead, replayDead } from '../../core/maintenance/dead-letters.js';
import { splitMessageRefs } from '../../core/foundation/parse-message-ref.js';
import { asDeadReason, DEAD_REASONS, StatusStore, UNKNOWN_DEAD_REASON } from '../../core/store/index.js';

/** Rows replayed or purged per page when a whole dead group is acted on by id. */
const GROUP_PAGE_SIZE = 5000;

/** What an operator does to dead letters. */
export type DeadLetterAction = 'replay' | 'purge';

/** One dead-letter group of the status page: a destination and a reason. */
export interface DeadGroup {
  destination: string;
  reason: string;
}

/** Which dead rows an action applies to: a status-page group, or a dead-letter filter. */
export type DeadLetterTarget = { group: DeadGroup } | { selector: DeadSelector };

/** What an action did. */
export type DeadLetterResult = { replayed: number } | { purged: number };

/**
 * The target named by an admin request body: `{ destination, reason }` is a status-page group,
 * anything else a dead-letter filter (`ids`, `type`, `destination`, `tenantId`, `since`, `all`).
 * Throws `OutboxValidationError` naming the bad field.
 *
 * @example
 * deadLetterTarget({ destination: 'webhook:acme', reason: 'permanent' }) // { group: {...} }
 * deadLetterTarget({ ids: ['42'] })                                       // { selector: { ids: ['42'] } }
 */
export function deadLetterTarget(body: Record<string, unknown>): DeadLetterTarget {
  if (body.reason !== undefined) {
    if (typeof body.reason !== 'string' || body.reason === '')
      throw new OutboxValidationError('reason', 'must be a dead reason (e.g. "permanent")');
    if (typeof body.destination !== 'string' || body.destination === '')
      throw new OutboxValidationError('destination', 'is required with reason (a dead-letter group)');
    return { group: { destination: body.destination, reason: body.reason } };
  }
  const text = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : undefined);
  const ids = Array.isArray(body.ids) ? body.ids.map(String) : undefined;
  const since = text('since');
  if (since !== undefined && Number.isNaN(new Date(since).getTime()))
    throw new OutboxValidationError('since', 'must be an ISO date');
  return {
    selector: {
      ...(ids ? splitMessageRefs(ids, 'ids') : {}),
      ...(text('type') ? { type: text('type')! } : {}),
      ...(text('destination') ? { destination: text('destination')! } : {}),
      ...(text('tenantId') ? { tenantId: text('tenantId')! } : {}),
      ...(since ? { since: new Date(since) } : {}),
      ...(body.all === true ? { all: true } : {}),
    },
  };
}

/**
 * Replays or purges dead letters: the one place the CLI, the admin routes and the status page's
 * buttons act on them. A group acts through the dead-letter filters (`destination` and
 * `deadReason`); the `unknown` group (rows whose dead_reason is null) has no filter that names
 * it, so its rows are acted on by id, page by page.
 *
 * @example
 * await runDeadLetterAction(db, 'outbox', 'replay', { selector: { ids: ['42'] } }); // { replayed: 1 }
 */
export async function runDeadLetterAction(
  db: Queryable,
  schema: string,
  action: DeadLetterAction,
  target: DeadLetterTarget,
): Promise<DeadLetterResult> {
  const act = (selector: DeadSelector): Promise<DeadLetterResult> =>
    action === 'replay' ? replayDead(db, selector, { schema }) : purgeDead(db, selector, { schema });
  if ('selector' in target) return act(target.selector);
  const group = target.group;
  const known = asDeadReason(group.reason);
  if (known) return act({ destination: group.destination, deadReason: known });
  if (group.reason !== UNKNOWN_DEAD_REASON)
    throw new OutboxValidationError(
      'reason',
      `must be one of ${[...DEAD_REASONS, UNKNOWN_DEAD_REASON].join(', ')}, got ${JSON.stringify(group.reason)}`,
    );
  const store = new StatusStore(schema);
  const run = sqlRunner(db);
  let afterId = '0';
  let done = 0;
  for (;;) {
    const ids = await store.deadGroupIds(run, { ...group, afterId, limit: GROUP_PAGE_SIZE });
    if (ids.length === 0) break;
    const result = await act({ ids });
    done += 'replayed' in result ? result.replayed : result.purged;
    afterId = ids[ids.length - 1]!;
    if (ids.length < GROUP_PAGE_SIZE) break;
  }
  return action === 'replay' ? { replayed: done } : { purged: done };
}
