import { OutboxValidationError } from '../foundation/errors.js';
import { type Queryable, sqlRunner } from '../foundation/queryable.js';
import { DEFAULT_SCHEMA } from '../foundation/schema-name.js';
import { parseMessageRef } from '../foundation/parse-message-ref.js';
import { type DeadFilter, DeadLetterStore, type StoredMessage } from '../store/index.js';
import type { Clock } from '../foundation/clock.js';
import { requireInt } from '../foundation/option-checks.js';
import { repeatUntilShort } from '../foundation/repeat-until-short.js';

export type { DeadFilter, StoredMessage };

/** Rows changed per statement by replay and purge, so no statement locks millions of rows. */
const DEAD_BATCH_SIZE = 5000;

function deadStore(schema: string | undefined): DeadLetterStore {
  return new DeadLetterStore(schema ?? DEFAULT_SCHEMA);
}

/** A filter, or `{ all: true }` to mean every dead row on purpose. */
export type DeadSelector = DeadFilter & { all?: boolean };

function requireSelector(selector: DeadSelector, verb: string): DeadFilter {
  const { all, ...filter } = selector ?? {};
  const hasFilter = Object.values(filter).some((v) => v !== undefined && (!Array.isArray(v) || v.length > 0));
  if (!hasFilter && all !== true) {
    throw new OutboxValidationError(
      'filter',
      `${verb} needs a filter (ids, type, destination, tenantId, since, deadReason, lastErrorPrefix) or { all: true }`,
    );
  }
  return filter;
}

/**
 * Lists dead-lettered messages, oldest first, with their `lastError`.
 *
 * @example
 * const dead = await listDead(db, { type: 'invoice.paid' }, { limit: 50 });
 */
export async function listDead(
  db: Queryable,
  filter: DeadFilter = {},
  options: { schema?: string; limit?: number; afterId?: string } = {},
): Promise<StoredMessage[]> {
  const limit = requireInt(options.limit ?? 100, 'limit', { min: 1, max: 100_000 });
  return deadStore(options.schema).list(sqlRunner(db), filter, {
    limit,
    ...(options.afterId ? { afterId: options.afterId } : {}),
  });
}

/**
 * One message by row id or message_id, whatever its status (for `dead show`).
 *
 * @example
 * const m = await getMessage(db, '0193...'); console.log(m?.status, m?.lastError);
 */
export async function getMessage(
  db: Queryable,
  idOrMessageId: string,
  options: { schema?: string } = {},
): Promise<StoredMessage | undefined> {
  return deadStore(options.schema).get(sqlRunner(db), parseMessageRef(idOrMessageId));
}

/**
 * Sends dead messages again: back to pending with a fresh attempt budget. Pass ids, a filter,
 * or `{ all: true }`; an empty filter is refused so nobody replays everything by accident.
 *
 * @example
 * await replayDead(db, { ids: ['42'] });
 * await replayDead(db, { destination: 'webhook:acme', since: new Date(Date.now() - 3600_000) });
 * await replayDead(db, { all: true });
 */
export async function replayDead(
  db: Queryable,
  selector: DeadSelector,
  options: { schema?: string; clock?: Clock } = {},
): Promise<{ replayed: number }> {
  const filter = requireSelector(selector, 'replayDead');
  const store = deadStore(options.schema);
  const run = sqlRunner(db);
  const replayed = await repeatUntilShort(DEAD_BATCH_SIZE, () =>
    store.replayBatch(run, filter, {
      ...(options.clock ? { clock: options.clock } : {}),
      limit: DEAD_BATCH_SIZE,
    }),
  );
  return { replayed };
}

/**
 * Deletes dead messages for good. Same selector rules as `replayDead`.
 *
 * @example
 * await purgeDead(db, { type: 'test.event' });
 */
export async function purgeDead(
  db: Queryable,
  selector: DeadSelector,
  options: { schema?: string } = {},
): Promise<{ purged: number }> {
  const filter = requireSelector(selector, 'purgeDead');
  const store = deadStore(options.schema);
  const run = sqlRunner(db);
  const purged = await repeatUntilShort(DEAD_BATCH_SIZE, () =>
    store.purgeBatch(run, filter, { limit: DEAD_BATCH_SIZE }),
  );
  return { purged };
}
