/**
 * Storage v2 as it would go into src/core/store.ts and migration 0007, written as plain SQL
 * builders so bench/experiments/storage-v2.ts can measure it against today's statements on the
 * same server in the same run. Nothing in src/ imports this; it is the design, runnable.
 *
 * Layout:
 * - `messages` keeps only unfinished work (pending, in_flight) and dead rows (plus, during a
 *   rolling deploy, rows an old relay marked delivered in place: delivered_at set = finished). No index names
 *   `status`, `locked_by`, `locked_until` or `attempts`, so the claim's UPDATE is HOT: no index
 *   entry is written per claimed row (today: a new entry in every index of the table).
 * - Followers of a blocked key are `parked`: out of the claim index. Parking is lazy (only rows
 *   a claim walked past while their key's head was unfinished pay it, once) and a head's
 *   delivery or death unparks exactly its successor, in the same statement.
 * - Delivered rows move to `messages_archive` in the write-back statement (delete from the hot
 *   table + insert, one statement). The archive is append-only in delivery order: one btree
 *   (message_id: getMessage and idempotency) and BRIN indexes on id and delivered_at (getMessage
 *   by id, cleanup by time), which cost nothing per row.
 */

/**
 * Migration 0007, part 1: runs in migrate()'s transaction under its advisory lock and only
 * touches catalog entries, so the ACCESS EXCLUSIVE lock ALTER TABLE takes lasts milliseconds
 * whatever the table holds (ADD COLUMN with a constant default rewrites nothing since PG 11).
 * Old relays keep working against it: they still mark rows delivered in place, and every v2
 * statement treats a row with delivered_at set as finished.
 */
export const migration7Sql = (s: string) => `
create table ${s}.messages_archive (
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
  delivered_at  timestamptz not null
);
-- getMessage(message_id) and the idempotency check of caller-supplied ids.
create unique index messages_archive_message_id_idx on ${s}.messages_archive (message_id);
-- Rows arrive in delivery order: block ranges summarise id and delivered_at almost exactly,
-- and a BRIN entry costs nothing per inserted row.
create index messages_archive_id_brin on ${s}.messages_archive using brin (id);
create index messages_archive_delivered_brin on ${s}.messages_archive using brin (delivered_at);
alter table ${s}.messages_archive set (autovacuum_vacuum_insert_scale_factor = 0.05, fillfactor = 100);

alter table ${s}.messages add column parked boolean not null default false;
-- Room on each page for the claim's new row version: a HOT update needs same-page space.
-- Applies to pages written from now on; old pages get it as they are rewritten or vacuumed.
alter table ${s}.messages set (fillfactor = 50);
`;

/**
 * Migration 0007, part 2: statements that must run outside a transaction (CREATE INDEX
 * CONCURRENTLY never blocks producers or relays), each idempotent, under a session advisory
 * lock. migrate() needs a small extension for this: `Migration.online?: (s) => string[]`, run
 * after part 1 commits, with an invalid index left by an interrupted build dropped and rebuilt.
 * No index names status, locked_by, locked_until or attempts: the claim's UPDATE is HOT.
 */
export const migration7OnlineSql = (s: string) => [
  `create index concurrently if not exists messages_claim_idx on ${s}.messages (available_at, id)
     where delivered_at is null and dead_at is null and not parked`,
  `create index concurrently if not exists messages_key_idx on ${s}.messages (ordering_key, id)
     where ordering_key is not null and delivered_at is null and dead_at is null`,
  `create index concurrently if not exists messages_route_v2_idx
     on ${s}.messages (split_part(destination, ':', 1), available_at, id)
     where delivered_at is null and dead_at is null and not parked`,
  `create index concurrently if not exists messages_dead_at_idx on ${s}.messages (id) where dead_at is not null`,
  `drop index concurrently if exists ${s}.messages_claimable_idx`,
  // 0005's route index and 0006's delivered_at index have status in their predicates: any index
  // naming status makes every claim non-HOT. Delivered rows live in the archive now, whose BRIN on
  // delivered_at serves the status page's "delivered in the last N minutes" by destination.
  `drop index concurrently if exists ${s}.messages_route_idx`,
  `drop index concurrently if exists ${s}.messages_delivered_at_idx`,
  `drop index concurrently if exists ${s}.messages_ordering_idx`,
  `drop index concurrently if exists ${s}.messages_dead_idx`,
];

/**
 * Migration 0007, part 3 (and afterwards the cleanup job's first step, for rows an old relay
 * still marks delivered in place during a rolling deploy): moves delivered rows to the archive,
 * `$1` at a time, each batch its own short transaction. Every row keeps id, message_id, result.
 */
export const moveDeliveredBatchSql = (s: string) => `with d as (
    delete from ${s}.messages
     where id in (select id from ${s}.messages where delivered_at is not null order by id limit $1
                  for update skip locked)
    returning *)
  insert into ${s}.messages_archive
    (id, message_id, tenant_id, kind, type, destination, ordering_key, payload, headers, attempts,
     max_attempts, result, created_at, delivered_at)
  select id, message_id, tenant_id, kind, type, destination, ordering_key, payload, headers, attempts,
         max_attempts, result, created_at, delivered_at
    from d order by delivered_at, id`;

/** The hot-path statements of storage v2 for a quoted schema. */
export function v2Statements(s: string) {
  const t = `${s}.messages`;
  const a = `${s}.messages_archive`;
  // The head of the key of row alias `x`: its lowest unfinished id, one descent of
  // messages_key_idx. Written as a scalar subquery, not NOT EXISTS (... p.id < m.id): the
  // planner turns that into a hash semi-join whose id filter is quadratic in a key's backlog
  // (measured: 4.5M rows filtered to park 4,000 followers of one key).
  const head = (x: string) => `select p.id from ${t} p
                  where p.ordering_key = ${x}.ordering_key and p.delivered_at is null and p.dead_at is null
                  order by p.id limit 1`;
  const statements = {
    /**
     * Claim: walks messages_claim_idx over due, unparked rows; a keyed row is taken only if it
     * is its key's head (one probe of messages_key_idx). Parked followers are not in the index, so a blocked key's backlog costs
     * nothing here. In-flight rows are skipped by locked_until (heap), not moved in the index.
     * $1 due-before, $2 limit, $3 worker, $4 lease end.
     */
    claim: `with c as (
        select m.id from ${t} m
         where m.delivered_at is null and m.dead_at is null and not m.parked and m.available_at < $1
           and (m.locked_until is null or m.locked_until < $1)
           and (m.ordering_key is null or m.id = (${head('m')}))
         order by m.available_at, m.id
         limit $2
         for update of m skip locked)
      update ${t} m
         set status = 'in_flight', attempts = m.attempts + 1, locked_by = $3, locked_until = $4
        from c
       where m.id = c.id
      returning m.id, m.message_id, m.kind, m.type, m.destination, m.tenant_id, m.ordering_key,
                m.payload::text as body, nullif(m.headers, '{}') as headers, m.attempts, m.max_attempts,
                extract(epoch from m.created_at)::float8 * 1000 as created_ms`,
    /** The same claim moving available_at to the lease end, as today: not HOT (for the A/B only). */
    claimMovingAvailableAt: '',
    /**
     * Park: followers the claim would walk past (their key has an earlier unfinished row) leave
     * the claim index. The blocker is locked FOR SHARE: a head being deleted by a write-back makes
     * this wait, then see it gone and leave the key's followers alone (the next pass parks them
     * behind the new head), so a follower is never parked after its head's write-back looked for
     * a successor. Each key's head is locked once, not once per follower. $1 due-before, $2 limit.
     */
    park: `with f as (
        select m.id, m.ordering_key from ${t} m
         where m.delivered_at is null and m.dead_at is null and not m.parked and m.available_at < $1 and m.ordering_key is not null
           and (m.locked_until is null or m.locked_until < $1)
           and m.id > (${head('m')})
         order by m.available_at, m.id
         limit $2
         for update of m skip locked),
      heads as (
        select h.ordering_key from ${t} h
         where h.id in (select (${head('k')}) from (select distinct ordering_key from f) k)
         for share of h)
      update ${t} m set parked = true from f join heads using (ordering_key) where m.id = f.id`,
    /**
     * Delivered: delete from the hot table, append to the archive, and unpark each key's next
     * row, in one statement. The successor is updated without a "parked" condition so that a
     * park committed after this statement's snapshot is still undone (row-lock recheck); when it
     * was not parked the update changes no indexed column and is HOT.
     * $1 ids, $2 results (or null), $3 delivered_at.
     */
    delivered: `with d as (
        delete from ${t} m using unnest($1::bigint[], $2::jsonb[]) as r(id, result)
         where m.id = r.id
        returning m.*, r.result as new_result),
      archived as (
        insert into ${a} (id, message_id, tenant_id, kind, type, destination, ordering_key, payload,
                          headers, attempts, max_attempts, result, created_at, delivered_at)
        select id, message_id, tenant_id, kind, type, destination, ordering_key, payload, headers,
               attempts, max_attempts, new_result, created_at, $3 from d),
      nxt as (
        select (select n.id from ${t} n
                 where n.ordering_key = k.ordering_key and n.delivered_at is null and n.dead_at is null and n.id > k.id
                 order by n.id limit 1) as id
          from (select ordering_key, max(id) as id from d where ordering_key is not null group by 1) k)
      update ${t} m set parked = false from nxt where m.id = nxt.id
      returning m.id`,
    /**
     * Failed attempts: retry rows get their next available_at (not HOT: the claim index moves
     * them, which is the point); rows that die get dead_at and unpark their key's successor, in
     * the same statement (a dead head no longer blocks its key). Only rows still leased to this
     * worker at this attempt. $1 ids, $2 attempts, $3 available_at, $4 errors, $5 dead,
     * $6 dead_at, $7 worker, $8 dead reasons.
     */
    failed: `with f as (
        update ${t} m
           set status = case when r.dead then 'dead' else 'pending' end,
               available_at = r.available_at, last_error = r.error, locked_by = null, locked_until = null,
               dead_at = case when r.dead then $6::timestamptz end,
               dead_reason = case when r.dead then r.reason end
          from unnest($1::bigint[], $2::int[], $3::timestamptz[], $4::text[], $5::boolean[], $8::text[])
            as r(id, attempts, available_at, error, dead, reason)
         where m.id = r.id and m.status = 'in_flight' and m.locked_by = $7 and m.attempts = r.attempts
        returning m.id, m.ordering_key, r.dead),
      nxt as (
        select (select n.id from ${t} n
                 where n.ordering_key = f.ordering_key and n.delivered_at is null and n.dead_at is null
                   and n.id > f.id order by n.id limit 1) as id
          from f where f.dead and f.ordering_key is not null)
      update ${t} m set parked = false from nxt where m.id = nxt.id`,
    /** Release on stop: HOT (no indexed column changes); the row is due again at once. */
    release: `update ${t} m
          set status = 'pending', locked_by = null, locked_until = null,
              attempts = case when r.started then m.attempts else greatest(m.attempts - 1, 0) end
         from unnest($1::bigint[], $2::boolean[]) as r(id, started)
        where m.id = r.id and m.status = 'in_flight' and m.locked_by = $3
       returning m.id`,
    /**
     * Stats: the hot table holds only what operators act on, so it is counted exactly in full;
     * delivered rows are the archive's planner estimate (reltuples), or a count when exact.
     */
    stats: `select status, destination, tenant_id, count(*) as n, min(created_at) as oldest
         from ${t} where delivered_at is null group by 1, 2, 3`,
    deliveredEstimate: `select reltuples::float8 as rows from pg_class where oid = to_regclass('${a}')`,
    /**
     * Cleanup: archive rows delivered before $1, the oldest block ranges first through the BRIN
     * index on delivered_at, at most $2 per statement (no sequential scan, short locks).
     * Time partitions (drop a day at once) were the alternative; they rule out the archive's
     * unique message_id index that the idempotency check probes, and a delete by BRIN ranges
     * of an append-only table stays within the 100 ms a statement may hold.
     */
    cleanupBatch: `delete from ${a}
       where ctid = any(array(select ctid from ${a} where delivered_at < $1 limit $2))`,
    /** Dead letters: the same filters as today, on the hot table, through messages_dead_at_idx. */
    deadWhere: 'dead_at is not null',
    /** getMessage by message_id: the hot table first, then the archive (one btree probe each). */
    getByMessageId: `select id, message_id, status, result, null::timestamptz as delivered_at from ${t} where message_id = $1
      union all
      select id, message_id, 'delivered', result, delivered_at from ${a} where message_id = $1
      limit 1`,
    /** getMessage by id: primary key, then the archive's BRIN on id. */
    getById: `select id, message_id, status, result, null::timestamptz as delivered_at from ${t} where id = $1
      union all
      select id, message_id, 'delivered', result, delivered_at from ${a} where id = $1
      limit 1`,
    /**
     * Insert of caller-supplied message ids: ON CONFLICT covers the hot table, NOT EXISTS the
     * archive. Library-generated UUIDv7 ids skip the NOT EXISTS and the check below.
     */
    insertCallerIds: `insert into ${t} (message_id, type, destination, ordering_key, payload)
      select u.message_id, 'x', 'noop', u.key, '{}'::jsonb
        from unnest($1::uuid[], $2::text[]) as u(message_id, key)
       where not exists (select 1 from ${a} a where a.message_id = u.message_id)
      on conflict (message_id) do nothing
      returning id`,
    /**
     * The check after that insert, in a statement of its own: a concurrent move that committed
     * while our insert waited on the hot row's unique entry is visible here (READ COMMITTED: new
     * snapshot sees the archive row; REPEATABLE READ: the old snapshot still sees the moved hot
     * row under another id). Either way our copy is a duplicate and goes.
     */
    dropMovedDuplicates: `delete from ${t} h
       where h.id = any($1::bigint[])
         and (exists (select 1 from ${a} a where a.message_id = h.message_id)
              or exists (select 1 from ${t} o where o.message_id = h.message_id and o.id <> h.id))
      returning h.id`,
  };
  statements.claimMovingAvailableAt = statements.claim
    .replace('locked_until = $4\n', 'locked_until = $4, available_at = $4\n')
    .replace('and (m.locked_until is null or m.locked_until < $1)\n', '');
  return statements;
}

/** Today's claim and write-back (src/core/store.ts at the start of storage v2), for the same-run comparison. */
export function todayStatements(s: string) {
  const t = `${s}.messages`;
  return {
    claim: `with claimable as (
        select m.id from ${t} m
         where m.status in ('pending', 'in_flight') and m.available_at < $1
           and (m.ordering_key is null or not exists (
                 select 1 from ${t} p
                  where p.ordering_key = m.ordering_key and p.id < m.id
                    and p.status in ('pending', 'in_flight')))
         order by m.available_at, m.id
         limit $2
         for update skip locked)
      update ${t} m
         set status = 'in_flight', attempts = m.attempts + 1, locked_by = $3, locked_until = $4, available_at = $4
        from claimable c
       where m.id = c.id
      returning m.id, m.message_id, m.kind, m.type, m.destination, m.tenant_id, m.ordering_key,
                m.payload::text as body, nullif(m.headers, '{}') as headers, m.attempts, m.max_attempts,
                extract(epoch from m.created_at)::float8 * 1000 as created_ms`,
    delivered: `update ${t} m
          set status = 'delivered', delivered_at = $3, locked_by = null, locked_until = null,
              last_error = null, dead_at = null, result = r.result
         from unnest($1::bigint[], $2::jsonb[]) as r(id, result)
        where m.id = r.id and m.status <> 'delivered'
       returning m.id`,
    /**
     * Candidate "skip-scan": today's schema, keyed rows found by a loose index scan over
     * messages_ordering_idx (one descent per key with unfinished rows), unkeyed by the claim index.
     */
    skipScanClaim: `with recursive keys(k) as (
        (select ordering_key from ${t} where ordering_key is not null and status in ('pending', 'in_flight')
          order by ordering_key, id limit 1)
        union all
        select (select ordering_key from ${t} where ordering_key > keys.k and status in ('pending', 'in_flight')
                 order by ordering_key, id limit 1)
          from keys where keys.k is not null),
      heads as (
        select h.id, h.available_at from keys
          cross join lateral (select id, available_at from ${t}
                               where ordering_key = keys.k and status in ('pending', 'in_flight')
                               order by id limit 1) h
         where keys.k is not null and h.available_at < $1),
      c as (
        select id from (
          (select id, available_at from heads)
          union all
          (select id, available_at from ${t}
            where status in ('pending', 'in_flight') and ordering_key is null and available_at < $1
            order by available_at, id limit $2)) u
         order by available_at, id limit $2)
      update ${t} m
         set status = 'in_flight', attempts = m.attempts + 1, locked_by = $3, locked_until = $4, available_at = $4
        from c
       where m.id = c.id and m.status in ('pending', 'in_flight')
      returning m.id`,
  };
}
