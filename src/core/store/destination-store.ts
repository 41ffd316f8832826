import type { Clock } from '../foundation/clock.js';
import type { RunSql } from '../foundation/queryable.js';
import { quoteSchema } from '../foundation/schema-name.js';
import { dueBySql, nowParam, nowSql } from './database-time.js';
import { unfinished } from './message-columns.js';

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
}

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
    return `split_part(m.destination, ':', 1) = split_part(${name}::text, ':', 1) and m.destination = ${name}
       and ${unfinished('m')} and not m.parked`;
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

  /** Every destination that has a row in the table (ever paused), by name. */
  async list(
    run: RunSql,
    args: { clock?: Clock | undefined; pausedOnly?: boolean } = {},
  ): Promise<DestinationRow[]> {
    const rows = await run<{
      name: string;
      paused: boolean;
      paused_until: Date | number | null;
      paused_reason: string | null;
      paused_at: Date | null;
      updated_at: Date;
    }>(
      `select name, coalesce(paused_until > ${nowSql('$1')}, false) as paused, paused_until, paused_reason,
              paused_at, updated_at
         from ${this.d}
        where not $2::boolean or paused_until > ${nowSql('$1')}
        order by name`,
      [nowParam(args.clock), args.pausedOnly ?? false],
    );
    return rows.map((r) => ({
      name: r.name,
      paused: r.paused,
      pausedUntil: r.paused && r.paused_until instanceof Date ? r.paused_until : null,
      pausedReason: r.paused ? r.paused_reason : null,
      pausedAt: r.paused ? r.paused_at : null,
      updatedAt: r.updated_at,
    }));
  }

  /**
   * The relay's hold pass: holds up to `limit` due rows of every paused destination (rows added,
   * retried or unparked since the pause) at its `paused_until`. Locks each pause FOR SHARE so a
   * resume committing meanwhile either waits for this statement or is seen by it (then the
   * pause no longer qualifies): a row is never held at a pause that has ended. One descent of
   * messages_route_v2_idx per paused destination. Returns one row per held row.
   */
  async holdPaused(run: RunSql, args: { limit: number; clock?: Clock | undefined }): Promise<number> {
    const rows = await run(
      `with p as (select name, paused_until from ${this.d} where paused_until > ${nowSql('$2')} for share skip locked),
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
