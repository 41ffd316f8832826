import { indexBuildSteps } from './index-builds.js';
import type { Migration } from './migration.js';

/**
 * Storage v2 (design and measurements: bench/experiments/README.md).
 *
 * - `messages` holds only unfinished work and dead rows. Delivered rows move to
 *   `messages_archive` in the write-back statement itself; the archive is append-only in
 *   delivery order, with btrees on message_id and delivered_at and a BRIN index on id.
 * - Followers of a blocked ordering key are `parked`: out of the claim index, so a router that
 *   is offline for a day costs the other keys' claims nothing. Finishing a key's head unparks
 *   its successor in the same statement.
 * - No index names `status`, `attempts`, `locked_by` or `locked_until`, and the table keeps half
 *   of each page free: the claim's UPDATE is HOT (no index entry written per claimed row).
 * - `all_messages` shows both tables as one, with each row's status, for operators' own SQL.
 *
 * Part 1 (here) changes only the catalog, so its ACCESS EXCLUSIVE locks last milliseconds
 * whatever the table holds (ADD COLUMN with a constant default rewrites nothing since PG 11).
 * It is idempotent: if the online part is interrupted, the next migrate runs both again.
 */
/** Rows per batch of the move of delivered rows to the archive (each its own short transaction). */
const MOVE_BATCH_ROWS = 2_500;

/** Storage v2's indexes on `messages`, as `<name> on <table> (...) where ...`. */
const V2_INDEXES: ReadonlyArray<(s: string) => string> = [
  (s) => `messages_claim_idx on ${s}.messages (available_at, id)
            where delivered_at is null and dead_at is null and not parked`,
  (s) => `messages_route_v2_idx on ${s}.messages (split_part(destination, ':', 1), available_at, id)
            where delivered_at is null and dead_at is null and not parked`,
  (s) => `messages_key_idx on ${s}.messages (ordering_key, id)
            where ordering_key is not null and delivered_at is null and dead_at is null`,
  // The park pass's walk: due keyed rows only, so a backlog of unkeyed rows (or of a
  // destination no relay serves) is never read by it.
  (s) => `messages_park_idx on ${s}.messages (available_at, id)
            where ordering_key is not null and delivered_at is null and dead_at is null and not parked`,
  // Keys with parked rows, for the sweep that frees a parked row left as its key's head (a
  // write-back by a relay older than v2, or a park racing a head's delivery).
  (s) => `messages_parked_idx on ${s}.messages (ordering_key, id) where parked`,
  (s) => `messages_dead_at_idx on ${s}.messages (id) where dead_at is not null`,
];

export const storageV2Migration: Migration = {
  version: 7,
  name: 'storage-v2',
  previousRelays: {
    during: true,
    after: false,
    note: 'older relays skip in-flight rows by `available_at`, which storage v2 no longer moves: side by side with new relays they send in-flight messages twice. Stop them before starting new ones',
  },
  sql: (s) => `
create table if not exists ${s}.messages_archive (
  id            bigint not null,
  message_id    uuid not null,
  tenant_id     text,
  kind          text not null,
  type          text not null,
  destination   text not null,
  ordering_key  text,
  payload       jsonb not null,
  headers       jsonb not null,
  attempts      int not null,
  max_attempts  int not null,
  result        jsonb,
  created_at    timestamptz not null,
  available_at  timestamptz not null,
  delivered_at  timestamptz not null
);
-- getMessage(message_id) and the idempotency check of caller-supplied message ids.
create unique index if not exists messages_archive_message_id_idx on ${s}.messages_archive (message_id);
-- getMessage by id: rows arrive in delivery order, so block ranges summarise ids almost exactly,
-- at no cost per inserted row.
create index if not exists messages_archive_id_brin on ${s}.messages_archive using brin (id);
-- Retention and the status page's last minutes. A btree, not BRIN: once cleanup has freed the
-- oldest pages, new rows are written into them, and a BRIN summary of such a block range spans
-- old and new times, so every cleanup batch would read it again. Keys only ever grow, so each
-- insert lands on the rightmost leaf; destination rides along for index-only counts.
create index if not exists messages_archive_delivered_idx on ${s}.messages_archive (delivered_at) include (destination);
alter table ${s}.messages_archive set (autovacuum_vacuum_insert_scale_factor = 0.05, fillfactor = 100);

alter table ${s}.messages add column if not exists parked boolean not null default false;
-- Room on each page for the claim's new row version, which is larger than the one inserted
-- (locked_by, locked_until): a HOT update needs same-page space. At 50, 179 of 200 claimed
-- rows found room; at 40, all of them (test/integration/storage-v2.test.ts).
-- Pages written from now on get it; old ones as they are emptied and reused.
alter table ${s}.messages set (fillfactor = 40);
-- The relay finds a key's next row with "ordering_key = <that row's key> order by id limit 1".
-- For a key only known at run time the planner guesses 1/n_distinct of the rows match. When one
-- blocked key holds nearly every row at ANALYZE time, n_distinct is ~1: the planner then walks
-- the primary key in id order instead of messages_key_idx, past the whole backlog for every
-- other key (2-3 s per claim with 50k blocked, measured). Ordering keys are many in practice.
alter table ${s}.messages alter column ordering_key set (n_distinct = -0.05);

create or replace view ${s}.all_messages as
  select id, message_id, tenant_id, kind, type, destination, ordering_key, payload, headers, status,
         attempts, max_attempts, available_at, locked_by, locked_until, last_error, dead_reason, result,
         created_at, delivered_at, dead_at, parked
    from ${s}.messages
  union all
  select id, message_id, tenant_id, kind, type, destination, ordering_key, payload, headers,
         'delivered'::text, attempts, max_attempts, available_at, null::text, null::timestamptz,
         null::text, null::text, result, created_at, delivered_at, null::timestamptz, false
    from ${s}.messages_archive;
`,
  online: (s, concurrently) => [
    // Only rows an old relay left inconsistent could miss these; v2 reads "unfinished" as
    // delivered_at and dead_at both null, never status.
    {
      sql: `update ${s}.messages set dead_at = coalesce(dead_at, now()) where status = 'dead' and dead_at is null`,
    },
    {
      sql: `update ${s}.messages set delivered_at = coalesce(delivered_at, now())
             where status = 'delivered' and delivered_at is null`,
    },
    // Delivered rows to the archive first, in short transactions while relays keep running, so
    // the index builds below read only what is left: unfinished and dead rows. Old relays claim
    // through their own indexes meanwhile: migration 11, the last of this release, drops them.
    // The rows they deliver in place after the last batch are few; cleanup moves them.
    { sql: moveDeliveredSql(s, MOVE_BATCH_ROWS), batchRows: MOVE_BATCH_ROWS },
    ...indexBuildSteps(
      s,
      concurrently,
      V2_INDEXES.map((ix) => ix(s)),
    ),
  ],
};

/**
 * Moves up to `limit` rows marked delivered in place (before v2, or by an older relay during a
 * rolling deploy) from `messages` to `messages_archive`, keeping id, message_id and result.
 * Returns one row per moved row. `= any(array(...))` runs the locking subquery once; `in (...)`
 * may be planned as a nested loop that runs it again per row (3.5 s for 300 rows, measured).
 *
 * @example
 * await run(moveDeliveredSql('"outbox"', 1000)); // until it moves nothing
 */
export function moveDeliveredSql(s: string, limit: number): string {
  return `with d as (
    delete from ${s}.messages
     where id = any(array(select id from ${s}.messages where delivered_at is not null order by id limit ${limit}
                          for update skip locked))
    returning *)
  insert into ${s}.messages_archive
    (id, message_id, tenant_id, kind, type, destination, ordering_key, payload, headers, attempts,
     max_attempts, result, created_at, available_at, delivered_at)
  select id, message_id, tenant_id, kind, type, destination, ordering_key, payload, headers, attempts,
         max_attempts, result, created_at, available_at, delivered_at
    from d order by delivered_at, id
  returning id`;
}
