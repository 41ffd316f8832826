import { relaysFromSql } from '../migrations/schema-state.js';
import { archiveCopy, destinationRows, unfinished } from './message-columns.js';
import { insertSql } from './insert-sql.js';
import { quoteSchema } from '../foundation/schema-name.js';
import { dueBySql, nowSql } from './database-time.js';
import { ATTEMPT_INSERT_COLUMNS } from './attempt-store.js';
import { governedBy, type LimitKind, limitRange, THROTTLED_AT_SQL } from './limit-sql.js';

/**
 * The statement texts of the outbox's hot path, for one schema: inserts (insert-sql.ts), the
 * claim, parking, the write-backs and release. Each is one autocommit statement with arrays through unnest and
 * says which index it uses and which race it guards against; `OutboxStore` runs them.
 *
 * @example
 * const sql = hotPathSql('outbox'); sql.claimAll // 'with due as (select m.id ...'
 */
export function hotPathSql(schema: string, options: { fenceVersion?: number } = {}) {
  const s = quoteSchema(schema);
  const t = `${s}.messages`;
  const a = `${s}.messages_archive`;
  // The lowest unfinished id of key `key` (above id `after`: a finished row's successor; else
  // the key's head), one descent of messages_key_idx. A scalar subquery, not NOT EXISTS
  // (... p.id < m.id): the planner turns that into a hash semi-join whose id filter is
  // quadratic in a key's backlog. Migration 7 fixes the column's n_distinct so that statistics
  // taken while one blocked key holds nearly every row do not make the planner walk the
  // primary key here instead.
  const nextOfKey = (key: string, after?: string) => `select p.id from ${t} p
                where p.ordering_key = ${key} and ${unfinished('p')}${after ? ` and p.id > ${after}` : ''}
                order by p.id limit 1`;
  // The claim. $1 now (null: the database's), $2 limit, $3 worker, $4 lease ms, $5 attempt cap,
  // then the destination filter. It walks messages_claim_idx (available_at, id) over due,
  // unparked rows; a keyed row is taken only when it is its key's head, so one key never has
  // two messages out at once, and the followers of a blocked head are parked (out of the
  // index) by `park`. In-flight rows keep their place in the index and are skipped by their
  // lease: the claim writes no indexed column, so its UPDATE is HOT. An expired lease is
  // claimable through the same condition; a row whose lease expired on its last attempt is
  // dead-lettered right here (it probably crashed or hung its relay every time).
  // The fence: a relay claims nothing from a schema a later release migrated in a way its
  // relays cannot live with (`relays_from` above the version it was built for; a later release's
  // rules may differ; the relay then stops, see relay/schema-fence.ts). An uncorrelated scalar
  // subquery: an InitPlan run once per statement, one backward descent of the tiny migrations
  // table's primary key.
  const fence =
    options.fenceVersion === undefined
      ? ''
      : ` and (select ${relaysFromSql('v')} from ${s}.migrations v order by v.version desc limit 1) <= ${Math.trunc(options.fenceVersion)}`;
  // Paused destinations (migration 9, docs/destinations.md): their waiting rows are held beyond
  // the due range, so the index walk never reaches them; this skips the few that became due
  // since (added, retried or unparked after the pause) until the relay's hold pass holds them
  // too. An uncorrelated InitPlan: one scan of the tiny destinations table per statement, then
  // one comparison against an (almost always empty) array per row walked.
  // Destinations whose circuit breaker is open are skipped the same way (their probe message is
  // taken by claimProbe below, one per probe interval).
  const paused = `array(select name from ${s}.destinations where paused_until > ${nowSql('$1')} or breaker_state = 'open')`;
  // Limits (migration 10, docs/destinations.md): a row governed by a limit is never taken by the
  // main claim, only by `claimLimited` below. One InitPlan over the tiny destination_limits table
  // per statement; with no limit configured the per-row cost is one test of an empty array.
  const limits = `array(select pattern from ${s}.destination_limits)`;
  const unlimited = (m: string) => `(cardinality(${limits}) = 0
         or not (array[${m}.destination, split_part(${m}.destination, ':', 1) || ':*', 'tenant:' || ${m}.tenant_id] && ${limits}))`;
  // A row no relay holds and that may go now, whatever its destination's state (the probe of an
  // open breaker takes one such row); `keyHead` last: its subquery is the costliest check.
  const free = (m: string) => `${unfinished(m)}${fence} and not ${m}.parked
         and (${m}.locked_until is null or ${m}.locked_until < ${nowSql('$1')})`;
  const keyHead = (m: string) =>
    `(${m}.ordering_key is null or ${m}.id = (${nextOfKey(`${m}.ordering_key`)}))`;
  // Everything a claimable row needs but being due: the limited claim also takes throttled rows.
  const claimable = (m: string) => `${free(m)}
         and ${m}.destination <> all(${paused})
         and ${keyHead(m)}`;
  const eligible = (m: string) =>
    `${claimable(m)} and ${m}.available_at <= ${dueBySql('$1')}
         and ${unlimited(m)}`;
  const expired = (m: string) =>
    `(${m}.status = 'in_flight' and ${m}.attempts >= least(${m}.max_attempts, coalesce($5::int, ${m}.max_attempts))) as expired`;
  const lease = `${nowSql('$1')} + $4::float8 * interval '1 ms'`;
  // `before`: CTEs `due` reads; `availableAt`: a new available_at for leased rows; `after`: CTEs
  // that read `c` (the rows leased or dead-lettered).
  const leaseOrDeadLetter = (
    due: string,
    extra: { before?: string; availableAt?: string; after?: string } = {},
  ) => `with ${
    extra.before
      ? `${extra.before},
    `
      : ''
  }due as (${due}),
    c as (
      update ${t} m
         set status = case when d.expired then 'dead' else 'in_flight' end,${
           extra.availableAt
             ? `
             available_at = ${extra.availableAt},`
             : ''
         }
             attempts = case when d.expired then m.attempts else m.attempts + 1 end,
             locked_by = case when d.expired then null else $3 end,
             locked_until = case when d.expired then null else ${lease} end,
             dead_at = case when d.expired then ${nowSql('$1')} end,
             dead_reason = case when d.expired then 'lease_expired' end,
             last_error = case when d.expired
               then format('lease expired %s times: the message probably crashes or hangs its relay (last error: %s)',
                           m.attempts, coalesce(m.last_error, 'none'))
               else m.last_error end
        from due d
       where m.id = d.id
      returning m.id, m.message_id, m.kind, m.type, m.destination, m.tenant_id, m.ordering_key,
                m.payload::text as body, nullif(m.headers, '{}') as headers, m.attempts, m.max_attempts,
                extract(epoch from m.created_at)::float8 * 1000 as created_ms,
                case when d.expired then m.last_error end as dead_error),
    ${unparkAfter('(select id, ordering_key from c where dead_error is not null and ordering_key is not null)')}${
      extra.after
        ? `,
    ${extra.after}`
        : ''
    }
    select * from c`;
  // Every destination: one ordered range of messages_claim_idx over due rows.
  const claimAll = leaseOrDeadLetter(`select m.id, ${expired('m')} from ${t} m
       where ${eligible('m')}
       order by m.available_at, m.id
       limit $2
       for update of m skip locked`);
  // Only served destinations ($6 routes, $7 whole-route keys, $8 exact keys): one ordered
  // range of messages_route_v2_idx (route, available_at, id) per route, merged and cut to the
  // limit. Rows of destinations nobody serves are never read, however many wait.
  const claimRoutes = leaseOrDeadLetter(`select c.id, c.expired
        from unnest($6::text[]) as r(route)
       cross join lateral (
             select m.id, m.available_at, ${expired('m')} from ${t} m
              where split_part(m.destination, ':', 1) = r.route
                and (r.route = any($7::text[]) or m.destination = any($8::text[]))
                and ${eligible('m')}
              order by m.available_at, m.id
              limit $2
              for update of m skip locked) c
       order by c.available_at, c.id
       limit $2`);
  // The claim of one limit's rows ($6 its pattern; $7 whole-route keys and $8 exact keys the
  // relay serves, $7 null: every destination), run by OutboxStore.claimLimited right after
  // DestinationLimitStore.refill locked the limit's row in the same transaction: this
  // statement's snapshot is taken after that lock was granted, so the in-flight count sees every
  // claim another relay committed under the same limit. It takes up to min($2, whole tokens,
  // max_in_flight - in flight) rows the limit governs, throttled ones (THROTTLED_AT, in id order)
  // and due ones, with the main claim's rules (keys' heads only, lease, dead-letter on expiry),
  // moves throttled rows it leases back into the due range (so the in-flight count finds them)
  // and debits the bucket by what it leased. One index range per part: messages_route_v2_idx
  // for a destination or route pattern, messages_tenant_idx for a tenant.
  const claimLimited = (kind: LimitKind) => {
    const range = (m: string) => `${limitRange(kind, m, '$6')} and ${governedBy(kind, m, limits)}
              and ($7::text[] is null or split_part(${m}.destination, ':', 1) = any($7::text[]) or ${m}.destination = any($8::text[]))`;
    const inFlight = `select count(*)::int from ${t} f
                where ${range('f')} and ${unfinished('f')} and not f.parked
                  and f.available_at < ${THROTTLED_AT_SQL} and f.locked_until >= ${nowSql('$1')}`;
    const room = `room as (
      select greatest(0, least($2::int, case when l.rate is null then $2::int else floor(l.tokens)::int end,
             case when l.max_in_flight is null then $2::int else l.max_in_flight - (${inFlight}) end))::int as n
        from ${s}.destination_limits l where l.pattern = $6)`;
    const n = 'coalesce((select n from room), 0)';
    // In flight: leased rows anywhere below the throttled mark, not only due ones: a row another
    // relay just moved out of the mark carries that relay's now(), which may be later than the
    // start of this transaction. The range walked is the limit's due rows and its retries.
    // Two CTEs, not a UNION of locking subqueries (FOR UPDATE is not allowed in a UNION).
    const part = (name: string, when: string, order: string) => `${name} as (
      select m.id, ${expired('m')} from ${t} m
       where ${range('m')} and ${when} and ${claimable('m')}
       order by ${order}
       limit ${n}
       for update of m skip locked)`;
    return leaseOrDeadLetter(
      `select x.id, x.expired from (select * from throttled union all select * from due_now) x
       order by x.id
       limit ${n}`,
      {
        before: `${room},
    ${part('throttled', `m.available_at = ${THROTTLED_AT_SQL}`, 'm.id')},
    ${part('due_now', `m.available_at <= ${dueBySql('$1')}`, 'm.available_at, m.id')}`,
        availableAt: `case when d.expired or m.available_at <= ${nowSql('$1')} then m.available_at else ${nowSql('$1')} end`,
        after: `debit as (
      update ${s}.destination_limits l set tokens = l.tokens - (select count(*) from c where c.dead_error is null)
       where l.pattern = $6 and l.rate is not null)`,
      },
    );
  };
  // The probe of an open breaker ($6 the destination): its first claimable message, held or
  // not, due or waiting on a backoff (held rows sit at infinity, past any due range), a key's
  // head only. One range of messages_route_v2_idx (route, available_at, id) filtered to the
  // destination; the relay runs it once per probe interval per open destination.
  const claimProbe = leaseOrDeadLetter(`select m.id, ${expired('m')} from ${t} m
       where ${destinationRows('m', '$6')} and ${free('m')} and ${keyHead('m')}
       order by m.available_at, m.id
       limit $2
       for update of m skip locked`);
  // Frees the successor (next unfinished id of the key) of each finished row in `finished`
  // (id, ordering_key): a dead or delivered head no longer blocks its key. Without a
  // `parked` condition on purpose: a park that committed after this statement's snapshot is
  // still undone (the row lock makes PostgreSQL re-read the row), and when the successor was
  // not parked the update changes nothing indexed and is HOT.
  function unparkAfter(finished: string): string {
    return `nxt as (
      select (${nextOfKey('f.ordering_key', 'f.id')}) as id
        from (select ordering_key, max(id) as id from ${finished} f0 group by 1) f),
    unparked as (update ${t} m set parked = false from nxt where m.id = nxt.id)`;
  }
  // Park: keyed rows the claim would walk past (an earlier unfinished row of their key exists)
  // leave messages_claim_idx. Each key's head is locked FOR SHARE once: a write-back deleting
  // it later waits for this statement, then unparks the successor it finds. A head that is
  // gone (deleted before we got to it) or locked by a write-back right now is skipped, and its
  // key's followers are left for the next pass: park never waits on a lock, so it cannot
  // deadlock with a write-back, which locks head then successor while park locks the other
  // way round. Walks messages_park_idx (due keyed rows only). $1 now, $2 limit. Returns one
  // row per parked row.
  const park = `with f as (
      select m.id, m.ordering_key from ${t} m
       where m.ordering_key is not null and ${unfinished('m')} and not m.parked and m.available_at <= ${dueBySql('$1')}
         and (m.locked_until is null or m.locked_until < ${nowSql('$1')})
         and m.id > (${nextOfKey('m.ordering_key')})
       order by m.available_at, m.id
       limit $2
       for update of m skip locked),
    heads as (
      select h.ordering_key from ${t} h
       where h.id in (select (${nextOfKey('k.ordering_key')}) from (select distinct ordering_key from f) k)
       for share of h skip locked)
    update ${t} m set parked = true from f join heads using (ordering_key) where m.id = f.id
    returning m.id`;
  // The safety net under parking: a parked row that is its key's head (its head was finished
  // by a relay older than v2, or a park raced the head's write-back) is freed. One descent of
  // messages_parked_idx per key with parked rows, so its cost follows the blocked keys.
  const unparkHeads = `with recursive keys(k) as (
      (select ordering_key from ${t} where parked order by ordering_key limit 1)
      union all
      select (select ordering_key from ${t} where parked and ordering_key > keys.k order by ordering_key limit 1)
        from keys where keys.k is not null),
    heads as (
      select m.id from keys
        join ${t} m on m.id = (${nextOfKey('keys.k')})
       where keys.k is not null and m.parked
       for update of m skip locked)
    update ${t} m set parked = false from heads where m.id = heads.id
    returning m.id`;
  // Delivered: delete from the hot table, append to the archive with the result, and free
  // each key's next row, in one statement by primary key. Delivery wins over whatever another
  // relay did meanwhile: the message did reach its destination.
  // It answers one row: the ids no longer in the table and the duplicates below (two arrays,
  // almost always empty, where a row per message was 500 rows to parse; bench/notes/relay-cpu.md).
  // A row whose message_id is already archived (an old producer re-added a delivered
  // caller-chosen id; its insert never looked at the archive) is a duplicate of a delivered
  // message: it leaves the hot table all the same, the archive keeps the first delivery, and
  // `duplicate` says so. Without ON CONFLICT the unique messages_archive_message_id_idx refused
  // the whole statement and the row was sent again every lease, forever.
  const archived = archiveCopy({ result: 'new_result', delivered_at: nowSql('$3') });
  // The attempt log (ATTEMPT_LOG): the write-back that records an outcome also appends its
  // attempts to <schema>.attempts, one more CTE of the same statement (no round trip). The row
  // says when it started as the database's now minus the attempt's age by the relay's
  // monotonic clock. Appends only: the log's indexes (at; message_id, at; destination, at) take
  // one rightmost-leaf entry each.
  const logAttempts = (rows: string, now: string, worker: string) => `logged as (
      insert into ${s}.attempts (${ATTEMPT_INSERT_COLUMNS})
      select l.id, l.message_id, l.destination, l.attempt, l.outcome,
             ${now} - l.ago_ms * interval '1 ms', l.duration_ms, l.status_code, l.error_code, l.detail,
             ${worker}, ${now}
        from ${rows} l)`;
  const markDeliveredWith = (log: boolean) => `with d as (
      delete from ${t} m using unnest($1::bigint[], $2::jsonb[]) as r(id, result)
       where m.id = r.id
      returning m.*, r.result as new_result),
    archived as (
      insert into ${a} (${archived.into})
      select ${archived.select} from d order by id
      on conflict (message_id) do nothing
      returning id),${
        log
          ? // $4 worker, $5 ago ms, $6 duration ms, $7 HTTP status. A row no longer in the table
            // (another relay finished it) is not logged: this statement has nothing to say of it.
            `
    ${logAttempts(
      `(select d.id, d.message_id, d.destination, d.attempts as attempt, 'delivered' as outcome, x.ago_ms,
               x.duration_ms, x.status_code, null::text as error_code, null::text as detail
          from unnest($1::bigint[], $5::float8[], $6::float8[], $7::int[]) as x(id, ago_ms, duration_ms, status_code)
          join d on d.id = x.id)`,
      nowSql('$3'),
      '$4',
    )},`
          : ''
      }
    ${unparkAfter('(select id, ordering_key from d where ordering_key is not null)')}
    select array(select r.id::text from unnest($1::bigint[]) as r(id) where not exists (select 1 from d where d.id = r.id)) as missing,
           array(select d.id::text from d where not exists (select 1 from archived x where x.id = d.id)) as duplicates`;
  const markDelivered = markDeliveredWith(false);
  const markDeliveredLogged = markDeliveredWith(true);
  // Only rows still leased to this worker at this attempt: if the lease expired and another
  // relay took the row, that relay's outcome is the one that counts. A retry moves the row in
  // the claim index (its new available_at); a death frees its key's successor.
  // A row whose message_id is already archived is a duplicate of a delivered message: it is
  // deleted instead of retried or dead-lettered (one probe of messages_archive_message_id_idx
  // per failed row; failures are not the drain's hot path) and frees its key's successor.
  // A row with a pause reason (its receiver answered 410 Gone) stays waiting, held until its
  // destination is resumed, and pauses that destination for the whole fleet in this statement
  // (a primary-key upsert into destinations).
  const markFailedWith = (log: boolean) => `with r as (
      select r.*, exists (select 1 from ${a} x join ${t} h on h.message_id = x.message_id where h.id = r.id) as dup
        from unnest($1::bigint[], $2::int[], $3::float8[], $4::text[], $5::text[], $8::text[])
          as r(id, attempts, delay_ms, error, dead_reason, pause_reason)),
    f as (
      update ${t} m
         set status = case when r.dead_reason is null then 'pending' else 'dead' end,
             available_at = case when r.pause_reason is null
               then ${nowSql('$6')} + r.delay_ms * interval '1 ms' else 'infinity' end,
             last_error = r.error, locked_by = null, locked_until = null,
             dead_at = case when r.dead_reason is not null then ${nowSql('$6')} end,
             dead_reason = r.dead_reason
        from r
       where m.id = r.id and not r.dup and m.status = 'in_flight' and m.locked_by = $7 and m.attempts = r.attempts
      returning m.id, m.ordering_key, m.dead_at, m.destination, r.pause_reason),
    paused as (
      insert into ${s}.destinations as d (name, paused_until, paused_reason, paused_at, updated_at)
      select distinct on (destination) destination, 'infinity', pause_reason, ${nowSql('$6')}, ${nowSql('$6')}
        from f where pause_reason is not null
      on conflict (name) do update
        set paused_until = 'infinity', paused_reason = excluded.paused_reason, updated_at = excluded.updated_at,
            paused_at = case when d.paused_until > excluded.paused_at then d.paused_at else excluded.paused_at end),
    dup as (
      delete from ${t} m using r
       where m.id = r.id and r.dup and m.status = 'in_flight' and m.locked_by = $7 and m.attempts = r.attempts
      returning m.id, m.ordering_key),
${
  log
    ? // $9 message_id, $10 destination, $11 outcome, $12 ago ms, $13 duration ms, $14 HTTP
      // status, $15 error code, $16 detail. A row neither written nor deleted as a duplicate
      // was no longer ours: its attempt is logged as lease_lost.
      `
    ${logAttempts(
      `(select x.id, x.message_id, x.destination, x.attempt,
               case when exists (select 1 from f where f.id = x.id) or exists (select 1 from dup where dup.id = x.id)
                    then x.outcome else 'lease_lost' end as outcome,
               x.ago_ms, x.duration_ms, x.status_code, x.error_code, x.detail
          from unnest($1::bigint[], $9::uuid[], $10::text[], $2::int[], $11::text[], $12::float8[], $13::float8[],
                      $14::int[], $15::text[], $16::text[])
            as x(id, message_id, destination, attempt, outcome, ago_ms, duration_ms, status_code, error_code, detail))`,
      nowSql('$6'),
      '$7',
    )},`
    : ''
}
    ${unparkAfter(`(select id, ordering_key from f where dead_at is not null and ordering_key is not null
                    union all select id, ordering_key from dup where ordering_key is not null)`)}
    select id, false as duplicate from f union all select id, true from dup`;
  const markFailed = markFailedWith(false);
  const markFailedLogged = markFailedWith(true);
  // Leaves available_at alone (already due): HOT, and the row is claimable at once.
  const release = `update ${t} m
        set status = 'pending', locked_by = null, locked_until = null,
            attempts = case when r.started then m.attempts else greatest(m.attempts - 1, 0) end
       from unnest($1::bigint[], $2::boolean[], $3::int[]) as r(id, started, attempts)
      where m.id = r.id and m.status = 'in_flight' and m.locked_by = $4
        and (r.attempts is null or m.attempts = r.attempts)
     returning m.id`;
  return {
    ...insertSql(s),
    claimAll,
    claimRoutes,
    claimLimitedDestination: claimLimited('destination'),
    claimLimitedRoute: claimLimited('route'),
    claimLimitedTenant: claimLimited('tenant'),
    claimProbe,
    park,
    unparkHeads,
    markDelivered,
    markDeliveredLogged,
    markFailed,
    markFailedLogged,
    release,
  };
}
