import type { Clock } from '../foundation/clock.js';
import type { RunSql } from '../foundation/queryable.js';
import { quoteSchema } from '../foundation/schema-name.js';
import { dueBySql, nowParam, nowSql } from './database-time.js';
import { destinationRows, unfinished } from './message-columns.js';

/** One row of the `destinations` table (migration 9) as the store returns it. */
export interface DestinationRow {
  name: string;
  /** Paused right now (paused_until is in the future). */
  paused: boolean;
  /** When a timed pause ends; null when paused until resumed, or not paused. */
  pausedUntil: Date | null;
  /** `gone` (the receiver answered 410), or the operator's words; null when not paused. */
  pausedReason: string | null;
  pausedAt: Date | null;
  updatedAt: Date;
  /**
   * The circuit breaker (docs/destinations.md#circuit-breaker): `open` (its messages wait, one
   * probe per interval), `half-open` (a relay is sending the probe now) or `closed`.
   */
  breaker: BreakerState;
  /** When the breaker opened; null when closed. */
  breakerOpenedAt: Date | null;
  /** When the next probe is due; null when closed. */
  probeAt: Date | null;
  /** The current probe interval (doubles after each failed probe); null when closed. */
  probeIntervalMs: number | null;
}

/** A destination's circuit breaker state. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/**
 * The SQL of destination flow control (guide: docs/destinations.md). A paused destination's
 * waiting rows are "held": `available_at` is set to its `paused_until` (`infinity` when open
 * ended), beyond the claim's due range of messages_claim_idx, so no claim walks them. Every
 * statement that looks for one destination's rows walks messages_route_v2_idx (route,
 * available_at, id) on the destination's route, and filters the destination in the heap.
 * Parked rows (followers of a blocked key) are not in that index and not touched: they wait for
 * their head, which is held.
 *
 * @example
 * const store = new DestinationStore('outbox');
 * await store.pause(run, { name: 'webhook:acme', until: null, reason: 'maintenance' });
 */
export class DestinationStore {
  private readonly t: string;
  private readonly d: string;

  constructor(schema: string) {
    const s = quoteSchema(schema);
    this.t = `${s}.messages`;
    this.d = `${s}.destinations`;
  }

  /** Rows of one destination in messages_route_v2_idx (route, available_at, id). */
  private ofDestination(name: string): string {
    return `${destinationRows('m', name)} and ${unfinished('m')} and not m.parked`;
  }

  /**
   * Pauses `name` until `until` (null: until resumed) with `reason`; returns the pause it
   * replaced (its held rows sit at that time). Primary key upsert.
   */
  async pause(
    run: RunSql,
    args: { name: string; until: Date | null; reason: string; clock?: Clock | undefined },
  ): Promise<{ until: Date | number; previous: Date | number | null }> {
    const [row] = await run<{ until: Date | number; previous: Date | number | null }>(
      `with old as (select paused_until from ${this.d} where name = $1 for update)
       insert into ${this.d} as d (name, paused_until, paused_reason, paused_at, updated_at)
       values ($1, coalesce($2::timestamptz, 'infinity'), $3, ${nowSql('$4')}, ${nowSql('$4')})
       on conflict (name) do update
         set paused_until = excluded.paused_until, paused_reason = excluded.paused_reason,
             paused_at = case when d.paused_until > ${nowSql('$4')} then d.paused_at else excluded.paused_at end,
             updated_at = excluded.updated_at
       returning d.paused_until as until, (select paused_until from old) as previous`,
      [args.name, args.until, args.reason, nowParam(args.clock)],
    );
    return row!;
  }

  /**
   * Holds up to `limit` waiting rows of `name` at `until`: rows due now, and rows held by the
   * pause this one replaced (`previous`). Returns how many it held.
   */
  async hold(
    run: RunSql,
    args: {
      name: string;
      until: Date | number;
      previous: Date | number | null;
      limit: number;
      clock?: Clock | undefined;
    },
  ): Promise<number> {
    const rows = await run(
      `update ${this.t} m set available_at = $2::timestamptz
        where m.id = any(array(
          select m.id from ${this.t} m
           where ${this.ofDestination('$1')}
             and (m.available_at <= ${dueBySql('$5')} or m.available_at = $3::timestamptz)
             and m.available_at <> $2::timestamptz
           limit $4 for update of m skip locked))
       returning m.id`,
      [args.name, pgTime(args.until), pgTime(args.previous), args.limit, nowParam(args.clock)],
    );
    return rows.length;
  }

  /**
   * Ends the pause of `name`; returns the `paused_until` its held rows sit at, or undefined when
   * it was not paused. The row lock makes a relay's hold pass that read the pause finish first
   * (it locks the pause FOR SHARE), so `release` below sees every row it held.
   */
  async resume(
    run: RunSql,
    args: { name: string; clock?: Clock | undefined },
  ): Promise<Date | number | undefined> {
    const [row] = await run<{ held_at: Date | number }>(
      `with old as (select name, paused_until from ${this.d}
                     where name = $1 and paused_until > ${nowSql('$2')} for update)
       update ${this.d} d set paused_until = null, paused_reason = null, paused_at = null, updated_at = ${nowSql('$2')}
         from old where d.name = old.name
       returning old.paused_until as held_at`,
      [args.name, nowParam(args.clock)],
    );
    return row?.held_at;
  }

  /**
   * Makes up to `limit` rows of `name` due now: those held at `heldAt` (resume), or with
   * `heldAt` null those waiting on a retry backoff (attempted before, due later: "retry now").
   * Returns how many. Never moves a row that was never attempted and is scheduled for later.
   */
  async release(
    run: RunSql,
    args: { name: string; heldAt: Date | number | null; limit: number; clock?: Clock | undefined },
  ): Promise<number> {
    const which =
      args.heldAt === null
        ? `$2::timestamptz is null and m.available_at > ${dueBySql('$4')} and m.attempts > 0 and m.available_at <> 'infinity'`
        : 'm.available_at = $2::timestamptz';
    const rows = await run(
      `update ${this.t} m set available_at = ${nowSql('$4')}
        where m.id = any(array(
          select m.id from ${this.t} m
           where ${this.ofDestination('$1')} and ${which}
           limit $3 for update of m skip locked))
       returning m.id`,
      [args.name, pgTime(args.heldAt), args.limit, nowParam(args.clock)],
    );
    return rows.length;
  }

  /**
   * Every destination that has a row in the table (ever paused or opened), by name.
   * `pausedOnly`: the paused ones; `blockedOnly`: the paused ones and those whose breaker is open.
   */
  async list(
    run: RunSql,
    args: { clock?: Clock | undefined; pausedOnly?: boolean; blockedOnly?: boolean } = {},
  ): Promise<DestinationRow[]> {
    const rows = await run<{
      name: string;
      paused: boolean;
      paused_until: Date | number | null;
      paused_reason: string | null;
      paused_at: Date | null;
      updated_at: Date;
      breaker: BreakerState;
      breaker_opened_at: Date | null;
      probe_at: Date | null;
      probe_interval_ms: number | null;
    }>(
      `select name, coalesce(paused_until > ${nowSql('$1')}, false) as paused, paused_until, paused_reason,
              paused_at, updated_at,
              case when breaker_state is distinct from 'open' then 'closed'
                   when probe_by is not null and probe_lease_until > ${nowSql('$1')} then 'half-open'
                   else 'open' end as breaker,
              breaker_opened_at, probe_at, probe_interval_ms
         from ${this.d}
        where (not $2::boolean or paused_until > ${nowSql('$1')})
          and (not $3::boolean or paused_until > ${nowSql('$1')} or breaker_state = 'open')
        order by name`,
      [nowParam(args.clock), args.pausedOnly ?? false, args.blockedOnly ?? false],
    );
    return rows.map((r) => ({
      name: r.name,
      paused: r.paused,
      pausedUntil: r.paused && r.paused_until instanceof Date ? r.paused_until : null,
      pausedReason: r.paused ? r.paused_reason : null,
      pausedAt: r.paused ? r.paused_at : null,
      updatedAt: r.updated_at,
      breaker: r.breaker,
      breakerOpenedAt: r.breaker === 'closed' ? null : r.breaker_opened_at,
      probeAt: r.breaker === 'closed' ? null : r.probe_at,
      probeIntervalMs: r.breaker === 'closed' ? null : r.probe_interval_ms,
    }));
  }

  /**
   * Opens the breaker of `name` with its first probe `probeMs` from now; true when this call
   * opened it (false: it was open already, and its probe schedule is left alone). Primary key
   * upsert: any relay opening it opens it for the fleet.
   */
  async openBreaker(
    run: RunSql,
    args: { name: string; probeMs: number; clock?: Clock | undefined },
  ): Promise<boolean> {
    const rows = await run(
      `insert into ${this.d} as d (name, breaker_state, breaker_opened_at, probe_at, probe_interval_ms, updated_at)
       values ($1, 'open', ${nowSql('$3')}, ${nowSql('$3')} + $2::float8 * interval '1 ms', $2, ${nowSql('$3')})
       on conflict (name) do update
         set breaker_state = 'open', breaker_opened_at = excluded.breaker_opened_at, probe_at = excluded.probe_at,
             probe_interval_ms = excluded.probe_interval_ms, probe_by = null, probe_lease_until = null,
             updated_at = excluded.updated_at
         where d.breaker_state is distinct from 'open'
       returning d.name`,
      [args.name, args.probeMs, nowParam(args.clock)],
    );
    return rows.length > 0;
  }

  /**
   * Takes the probe of an open `name` whose probe is due, for `leaseMs`: true when this worker
   * got it. Several relays may ask at once; the row lock lets exactly one through, and a prober
   * that died (its lease passed) is replaced, so a breaker never stays half-open.
   */
  async takeProbe(
    run: RunSql,
    args: { name: string; workerId: string; leaseMs: number; clock?: Clock | undefined },
  ): Promise<boolean> {
    const rows = await run(
      `update ${this.d} set probe_by = $2, probe_lease_until = ${nowSql('$4')} + $3::float8 * interval '1 ms',
              updated_at = ${nowSql('$4')}
        where name = $1 and breaker_state = 'open' and probe_at <= ${nowSql('$4')}
          and (probe_by is null or probe_lease_until < ${nowSql('$4')})
       returning name`,
      [args.name, args.workerId, args.leaseMs, nowParam(args.clock)],
    );
    return rows.length > 0;
  }

  /**
   * The probe of `workerId` failed: the breaker stays open and the next probe comes after the
   * doubled interval, at most `maxMs`. A probe lost to another worker changes nothing.
   */
  async probeFailed(
    run: RunSql,
    args: { name: string; workerId: string; maxMs: number; clock?: Clock | undefined },
  ): Promise<void> {
    await run(
      `update ${this.d} set probe_by = null, probe_lease_until = null,
              probe_interval_ms = least(probe_interval_ms * 2, $3::int),
              probe_at = ${nowSql('$4')} + least(probe_interval_ms * 2, $3::int) * interval '1 ms',
              updated_at = ${nowSql('$4')}
        where name = $1 and breaker_state = 'open' and probe_by = $2`,
      [args.name, args.workerId, args.maxMs, nowParam(args.clock)],
    );
  }

  /**
   * Lets the probe of `workerId` go without an outcome (it found nothing to send, or its message
   * was dead-lettered by the claim): the next look may probe again.
   */
  async dropProbe(run: RunSql, args: { name: string; workerId: string }): Promise<void> {
    await run(
      `update ${this.d} set probe_by = null, probe_lease_until = null
        where name = $1 and breaker_state = 'open' and probe_by = $2`,
      [args.name, args.workerId],
    );
  }

  /**
   * Makes the probe of an open `name` due now (an operator's "retry now"); true when it is open.
   * A relay sending a probe right now keeps it.
   */
  async probeNow(run: RunSql, args: { name: string; clock?: Clock | undefined }): Promise<boolean> {
    const rows = await run(
      `update ${this.d} set probe_at = ${nowSql('$2')}, updated_at = ${nowSql('$2')}
        where name = $1 and breaker_state = 'open'
       returning name`,
      [args.name, nowParam(args.clock)],
    );
    return rows.length > 0;
  }

  /**
   * Closes the breaker of `name` (only when `workerId` holds its probe, if given); returns
   * undefined when it was not open (or the probe was not ours), else whether the destination is
   * paused (then its held rows stay held for the resume). The row lock orders it after a hold
   * pass that read the breaker open, as for `resume`, so `release` sees every row it held.
   */
  async closeBreaker(
    run: RunSql,
    args: { name: string; workerId?: string | undefined; clock?: Clock | undefined },
  ): Promise<{ paused: boolean } | undefined> {
    const [row] = await run<{ paused: boolean }>(
      `update ${this.d} set breaker_state = null, breaker_opened_at = null, probe_at = null,
              probe_interval_ms = null, probe_by = null, probe_lease_until = null, updated_at = ${nowSql('$3')}
        where name = $1 and breaker_state = 'open' and ($2::text is null or probe_by = $2)
       returning coalesce(paused_until > ${nowSql('$3')}, false) as paused`,
      [args.name, args.workerId ?? null, nowParam(args.clock)],
    );
    return row;
  }

  /**
   * The relay's hold pass: holds up to `limit` due rows of every paused destination (rows added,
   * retried or unparked since the pause) at its `paused_until`, and of every destination whose
   * breaker is open (and not paused) at `infinity`. Locks each row FOR SHARE so a resume or a
   * close committing meanwhile either waits for this statement or is seen by it (then it no
   * longer qualifies): a row is never held by a pause or breaker that has ended. One descent of
   * messages_route_v2_idx per blocked destination. Returns one row per held row.
   */
  async holdPaused(run: RunSql, args: { limit: number; clock?: Clock | undefined }): Promise<number> {
    const rows = await run(
      `with p as (select name, case when paused_until > ${nowSql('$2')} then paused_until else 'infinity' end as paused_until
                    from ${this.d} where paused_until > ${nowSql('$2')} or breaker_state = 'open' for share skip locked),
       h as (
         select x.id, p.paused_until from p cross join lateral (
           select m.id from ${this.t} m
            where ${this.ofDestination('p.name')} and m.available_at <= ${dueBySql('$2')}
            limit $1 for update of m skip locked) x)
       update ${this.t} m set available_at = h.paused_until from h where m.id = h.id
       returning m.id`,
      [args.limit, nowParam(args.clock)],
    );
    return rows.length;
  }
}

/** node-postgres reads `infinity` as the number Infinity; it goes back as the text. */
function pgTime(t: Date | number | null): Date | string | null {
  if (t === null || t instanceof Date) return t;
  return t === Number.POSITIVE_INFINITY ? 'infinity' : new Date(t);
}
