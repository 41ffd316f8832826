import { INSERT_COLUMNS } from './message-columns.js';

/**
 * The producer's statements of the hot path, for one already-quoted schema: one row, many rows
 * through unnest, caller-chosen ids (which also look in the archive), and the clean-up of the
 * one race that look cannot see. Part of `hotPathSql`.
 *
 * @example
 * const { insertMany } = insertSql('"outbox"');
 */
export function insertSql(s: string) {
  const t = `${s}.messages`;
  const a = `${s}.messages_archive`;
  const cols = INSERT_COLUMNS.map((c) => c.column).join(', ');
  // One array parameter per inserted column, in INSERT_COLUMNS order.
  const unnestRows = (ord: '' | 'with ordinality') =>
    `unnest(${INSERT_COLUMNS.map((c, i) => `$${i + 1}::${c.insert}[]`).join(', ')}) ${ord}
          as u(${cols}${ord ? ', ord' : ''})`;
  const unnestCols = INSERT_COLUMNS.map((c) =>
    c.column === 'available_at' ? 'coalesce(u.available_at, now())' : `u.${c.column}`,
  ).join(', ');
  const values = INSERT_COLUMNS.map((c, i) =>
    c.column === 'available_at' ? `coalesce($${i + 1}::timestamptz, now())` : `$${i + 1}::${c.insert}`,
  ).join(', ');
  // ON CONFLICT DO NOTHING makes a repeated message_id a no-op: one row, one delivery.
  const insertOne = `insert into ${t} (${cols})
    values (${values})
    on conflict (message_id) do nothing`;
  const insertMany = `insert into ${t} (${cols})
    select ${unnestCols}
      from ${unnestRows('')}
    on conflict (message_id) do nothing`;
  // Caller-chosen ids: also a no-op while the message is retained in the archive (one probe of
  // messages_archive_message_id_idx per row). Returns what it inserted, for the check below.
  // ORDER BY keeps the caller's order (ids, and which of two equal message_ids wins) through
  // the anti-join, which may reorder rows.
  const insertCallerIds = `insert into ${t} (${cols})
    select ${unnestCols}
      from ${unnestRows('with ordinality')}
     where not exists (select 1 from ${a} x where x.message_id = u.message_id)
     order by u.ord
    on conflict (message_id) do nothing
    returning id`;
  // The race the NOT EXISTS above cannot see: a write-back moving the same message_id to the
  // archive commits while our insert waits on the hot row's unique entry; once it is gone the
  // slot is free and our row goes in. A statement of its own sees the move (READ COMMITTED: a
  // new snapshot shows the archive row; REPEATABLE READ: the old one still shows the moved row
  // under its own id), and our copy goes. Measured: 30 of 30 forced races without it, 0 with it.
  const dropMovedDuplicates = `delete from ${t} h
     where h.id = any($1::bigint[])
       and (exists (select 1 from ${a} x where x.message_id = h.message_id)
            or exists (select 1 from ${t} o where o.message_id = h.message_id and o.id <> h.id))`;

  return { insertOne, insertMany, insertCallerIds, dropMovedDuplicates };
}
