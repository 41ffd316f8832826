import type { MessageRef } from '../foundation/parse-message-ref.js';
import type { RunSql } from '../foundation/queryable.js';
import { quoteSchema } from '../foundation/schema-name.js';
import { nowParam, nowSql } from './database-time.js';
import type { DeadReason } from './dead-reason.js';
import { STORED_ARCHIVE_COLUMNS, STORED_COLUMNS } from './message-columns.js';
import { type StoredMessage, toStoredMessage } from './stored-message.js';
import type { Clock } from '../foundation/clock.js';
import { ATTEMPT_INSERT_COLUMNS, MAX_ATTEMPT_DETAIL_BYTES } from './attempt-store.js';

/** Filters shared by dead-letter list, replay and purge. All given filters must match. */
export interface DeadFilter {
  ids?: readonly string[];
  messageIds?: readonly string[];
  type?: string;
  destination?: string;
  tenantId?: string;
  /** Only rows that died at or after this time. */
  since?: Date;
  /** Only rows that died for this reason (e.g. `max_attempts`: retries ran out). */
  deadReason?: DeadReason;
  /** Only rows whose last_error starts with this text. */
  lastErrorPrefix?: string;
}

/**
 * The dead-letter statements: list, inspect, replay and purge. Listing, replay and purge use
 * messages_dead_at_idx (id) where dead_at is not null. A row by id or message_id is looked up
 * in `messages` (primary key, unique message_id) and then in `messages_archive`, where
 * delivered rows live (BRIN on id, unique message_id).
 *
 * @example
 * const dead = new DeadLetterStore('outbox');
 * const rows = await dead.list(run, { type: 'invoice.paid' }, { limit: 50 });
 */
export class DeadLetterStore {
  private readonly t: string;
  private readonly archive: string;
  private readonly attempts: string;

  constructor(schema: string) {
    this.t = `${quoteSchema(schema)}.messages`;
    this.attempts = `${quoteSchema(schema)}.attempts`;
    this.archive = `${quoteSchema(schema)}.messages_archive`;
  }

  private where(filter: DeadFilter, values: unknown[]): string {
    // Not status: no index names it; dead_at is what messages_dead_at_idx is partial on.
    const clauses = ['dead_at is not null'];
    const add = (sqlText: (p: string) => string, value: unknown) => {
      values.push(value);
      clauses.push(sqlText(`$${values.length}`));
    };
    if (filter.ids?.length) add((p) => `id = any(${p}::bigint[])`, filter.ids);
    if (filter.messageIds?.length) add((p) => `message_id = any(${p}::uuid[])`, filter.messageIds);
    if (filter.type !== undefined) add((p) => `type = ${p}`, filter.type);
    if (filter.destination !== undefined) add((p) => `destination = ${p}`, filter.destination);
    if (filter.tenantId !== undefined) add((p) => `tenant_id = ${p}`, filter.tenantId);
    if (filter.since !== undefined) add((p) => `dead_at >= ${p}`, filter.since);
    if (filter.deadReason !== undefined) add((p) => `dead_reason = ${p}`, filter.deadReason);
    if (filter.lastErrorPrefix !== undefined) {
      // starts_with is a plain prefix test: no LIKE wildcards to escape in user input.
      add((p) => `starts_with(last_error, ${p})`, filter.lastErrorPrefix);
    }
    return clauses.join(' and ');
  }

  /** Dead rows matching `filter`, oldest first, paged by id. */
  async list(
    run: RunSql,
    filter: DeadFilter,
    page: { limit: number; afterId?: string },
  ): Promise<StoredMessage[]> {
    const values: unknown[] = [];
    let where = this.where(filter, values);
    if (page.afterId !== undefined) {
      values.push(page.afterId);
      where += ` and id > $${values.length}`;
    }
    values.push(page.limit);
    const rows = await run(
      `select ${STORED_COLUMNS} from ${this.t} where ${where} order by id limit $${values.length}`,
      values,
    );
    return rows.map(toStoredMessage);
  }

  /**
   * One row by id or message_id, whatever its status: unfinished and dead rows from `messages`,
   * delivered ones (with their result) from the archive. The hot table is probed first and the
   * archive only when it has no such row (`limit 1` stops the append); a move between the two is
   * one statement, so this statement's snapshot sees the row on exactly one side.
   */
  async get(run: RunSql, ref: MessageRef): Promise<StoredMessage | undefined> {
    const [where, value] =
      ref.kind === 'id' ? ['id = $1::bigint', ref.id] : ['message_id = $1::uuid', ref.messageId];
    const rows = await run(
      `(select ${STORED_COLUMNS} from ${this.t} where ${where})
       union all
       (select ${STORED_ARCHIVE_COLUMNS} from ${this.archive} where ${where})
       limit 1`,
      [value],
    );
    return rows[0] ? toStoredMessage(rows[0]) : undefined;
  }

  /**
   * Moves up to `limit` matching dead rows back to pending with a fresh attempt budget, due at
   * the database's now. Callers loop until it returns fewer than `limit`, so no statement
   * holds a huge lock set. The row is unparked: a parked row is out of the claim index, and a
   * replayed row is its key's lowest unfinished one again, so nothing would ever unpark it.
   * Each replay is a line of the message's story: the same statement appends an attempt-log row
   * (outcome `replayed`, attempt 0, detail: why it had died), whatever ATTEMPT_LOG says.
   */
  async replayBatch(
    run: RunSql,
    filter: DeadFilter,
    args: { clock?: Clock; limit: number },
  ): Promise<number> {
    const values: unknown[] = [];
    const where = this.where(filter, values);
    values.push(nowParam(args.clock), args.limit);
    const now = nowSql(`$${values.length - 1}`);
    // The picked rows' values before the update (RETURNING shows the new ones): `was` reads
    // them in the same statement, by primary key.
    const rows = await run(
      `with u as (
         update ${this.t} m
            set status = 'pending', attempts = 0, available_at = ${now},
                dead_at = null, dead_reason = null, parked = false,
                last_error = 'replayed after: ' || coalesce(m.last_error, '')
          where m.id = any(array(select id from ${this.t} where ${where} order by id limit $${values.length}
                                 for update skip locked))
         returning m.id, m.message_id, m.destination),
       was as (select w.id, w.attempts, w.dead_reason, w.last_error from ${this.t} w where w.id in (select id from u)),
       logged as (
         insert into ${this.attempts} (${ATTEMPT_INSERT_COLUMNS})
         select u.id, u.message_id, u.destination, 0, 'replayed', ${now}, 0, null, was.dead_reason,
                left(format('was dead after %s attempts (%s): %s', was.attempts, coalesce(was.dead_reason, 'unknown'),
                            coalesce(was.last_error, '')), ${MAX_ATTEMPT_DETAIL_BYTES}),
                null, ${now}
           from u join was using (id))
       select id from u`,
      values,
    );
    return rows.length;
  }

  /**
   * Deletes up to `limit` matching dead rows. Like replay, it picks its rows in an `array(...)`
   * subquery, run once: written as `id in (select ... limit ... skip locked)`, PostgreSQL may
   * plan a nested loop that re-runs the locking subquery for every row of the table (seen with
   * the same shape in moving delivered rows: 3.5 s for 300 rows next to 2,000 pending).
   */
  async purgeBatch(run: RunSql, filter: DeadFilter, args: { limit: number }): Promise<number> {
    const values: unknown[] = [];
    const where = this.where(filter, values);
    values.push(args.limit);
    const rows = await run(
      `delete from ${this.t}
        where id = any(array(select id from ${this.t} where ${where} order by id limit $${values.length}
                             for update skip locked))
       returning id`,
      values,
    );
    return rows.length;
  }
}
