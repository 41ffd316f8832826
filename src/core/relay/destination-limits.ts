import type { Clock } from '../foundation/clock.js';
import { parseLimitPattern, type LimitPattern } from '../foundation/destination-policy.js';
import { type Queryable, type RunSql, withTransaction } from '../foundation/queryable.js';
import { repeatUntilShort } from '../foundation/repeat-until-short.js';
import {
  type ClaimArgs,
  type ClaimedRow,
  type ClaimRoutes,
  DestinationLimitStore,
  type OutboxStore,
  type RefilledLimit,
} from '../store/index.js';

/** Least pause between looks at the limits (and hold passes): a limit set at run time applies within it. */
export const LIMIT_CHECK_INTERVAL_MS = 500;
/** Most rows one hold statement throttles (the same bound as parking). */
export const THROTTLE_BATCH_SIZE = 2_000;
/**
 * A relay waits for this many milliseconds' worth of tokens (at least one, at most the burst)
 * before it claims under a rate limit again: several relays polling one limit row every
 * millisecond would queue on its lock for nothing.
 */
const TOKEN_WAIT_MS = 20;
/** Least wait before a limit whose last claim found nothing to take is tried again. */
const IDLE_LIMIT_MS = 250;

interface KnownLimit {
  readonly pattern: LimitPattern;
  readonly ratePerSecond: number | null;
  readonly burst: number | null;
}

/**
 * The relay's side of rate limits and concurrency caps (docs/destinations.md). Every
 * `LIMIT_CHECK_INTERVAL_MS` it reads the limits (a tiny table) and throttles the rows that became
 * due under one since (the hold pass), so the main claim, which never takes a limited row, never
 * walks them either. Before each main claim it runs one limited claim per limit whose time has
 * come: a short transaction that refills the limit's bucket under its row lock (serializing the
 * fleet on that limit only), then claims what the bucket and the in-flight cap allow. Between
 * claims it waits for the next whole tokens instead of polling the lock.
 *
 * @example
 * const limits = new DestinationLimits({ schema: 'outbox', outbox, db, run, clock: undefined, destinations: undefined, pollIntervalMs: 50 });
 * await limits.look(); const rows = await limits.claim(100, claimArgs);
 */
export class DestinationLimits {
  private known: KnownLimit[] = [];
  private nextLookAt = Number.NEGATIVE_INFINITY;
  /** performance.now() before which a limit is not claimed again. */
  private readonly notBefore = new Map<string, number>();
  /** Limits that wait for a publish to finish (their cap was full) rather than for tokens. */
  private readonly waitingForRoom = new Set<string>();

  private readonly o: {
    store: DestinationLimitStore;
    outbox: OutboxStore;
    db: Queryable;
    run: RunSql;
    clock: Clock | undefined;
    /** The destinations the relay serves; undefined: all. */
    served: ClaimRoutes | undefined;
    /** How long to wait when a limit had nothing to claim (the relay's poll interval). */
    idleMs: number;
  };

  constructor(options: {
    schema: string;
    outbox: OutboxStore;
    db: Queryable;
    run: RunSql;
    clock: Clock | undefined;
    destinations: ClaimRoutes | undefined;
    pollIntervalMs: number;
  }) {
    this.o = {
      ...options,
      store: new DestinationLimitStore(options.schema),
      served: options.destinations,
      idleMs: options.pollIntervalMs,
    };
  }

  /** Reads the limits and throttles newly due limited rows, unless it did moments ago; returns rows throttled. */
  async look(): Promise<number> {
    const started = performance.now();
    if (started < this.nextLookAt) return 0;
    this.nextLookAt = started + LIMIT_CHECK_INTERVAL_MS;
    const clock = this.o.clock ? { clock: this.o.clock } : {};
    const rows = await this.o.store.list(this.o.run, clock);
    this.known = rows
      .map((r) => ({ pattern: parseLimitPattern(r.pattern), ratePerSecond: r.ratePerSecond, burst: r.burst }))
      .filter((l) => this.serves(l.pattern));
    for (const pattern of this.notBefore.keys())
      if (!this.known.some((l) => l.pattern.pattern === pattern)) this.notBefore.delete(pattern);
    if (rows.length === 0) return 0;
    return repeatUntilShort(THROTTLE_BATCH_SIZE, () =>
      this.o.store.hold(this.o.run, { ...clock, limit: THROTTLE_BATCH_SIZE }),
    );
  }

  /** Claims up to `room` rows under the limits whose time has come (none when no limit exists). */
  async claim(room: number, args: Omit<ClaimArgs, 'limit'>): Promise<ClaimedRow[]> {
    const out: ClaimedRow[] = [];
    for (const limit of this.known) {
      const want = room - out.length;
      if (want <= 0) break;
      const key = limit.pattern.pattern;
      if (performance.now() < (this.notBefore.get(key) ?? Number.NEGATIVE_INFINITY)) continue;
      const { rows, refilled } = await withTransaction(this.o.db, async (run) => {
        const refilled = await this.o.store.refill(run, { pattern: key, clock: this.o.clock });
        // No whole token: nothing to claim, and the lock is given back at once.
        if (!refilled || (refilled.tokens !== null && refilled.tokens < 1)) return { rows: [], refilled };
        const rows = await this.o.outbox.claimLimited(run, {
          ...args,
          limit: want,
          pattern: key,
          kind: limit.pattern.kind,
        });
        return { rows, refilled };
      });
      out.push(...rows);
      const waitMs = this.waitMs(limit, refilled, rows.length, want);
      this.notBefore.set(key, performance.now() + waitMs);
      if (waitMs >= this.o.idleMs) this.waitingForRoom.add(key);
      else this.waitingForRoom.delete(key);
    }
    return out;
  }

  /**
   * Claims limited rows first, then `main` for the room left: each limit takes at most what its
   * bucket allows, and a steady unlimited backlog (full main claims) would otherwise never leave
   * them room.
   */
  async claimFirst(
    room: number,
    args: Omit<ClaimArgs, 'limit'>,
    main: (room: number) => Promise<ClaimedRow[]>,
  ): Promise<ClaimedRow[]> {
    const limited = await this.claim(room, args);
    return limited.length < room ? [...limited, ...(await main(room - limited.length))] : limited;
  }

  /** How long until a limit may have something to claim: caps the relay's sleep (ms). */
  sleepCap(ms: number): number {
    if (this.known.length === 0) return ms;
    // Only times still ahead: one already passed is claimed by the next round with room (a
    // relay holding a full batch must not spin on it).
    const now = performance.now();
    let next = ms;
    for (const at of this.notBefore.values()) if (at > now) next = Math.min(next, at - now);
    return Math.max(1, Math.ceil(next));
  }

  /** A publish of a limited row finished: a cap may have room now. */
  finished(destination: string, tenant: string | null): void {
    for (const l of this.known) {
      const p = l.pattern;
      const match =
        p.kind === 'tenant'
          ? tenant === p.tenant
          : p.kind === 'route'
            ? destination === p.route || destination.startsWith(`${p.route}:`)
            : destination === p.destination;
      if (match && this.waitingForRoom.delete(p.pattern)) this.notBefore.delete(p.pattern);
    }
  }

  private waitMs(
    limit: KnownLimit,
    refilled: RefilledLimit | undefined,
    claimed: number,
    want: number,
  ): number {
    if (!refilled) return this.o.idleMs;
    if (claimed >= want) return 0;
    if (refilled.tokens === null || refilled.ratePerSecond === null)
      return claimed > 0 ? this.o.idleMs : this.idleLimitMs();
    const left = refilled.tokens - claimed;
    // Tokens were left over: no rows, or the in-flight cap; a finishing publish or the poll says when.
    if (left >= 1) return claimed > 0 ? this.o.idleMs : this.idleLimitMs();
    const rate = refilled.ratePerSecond;
    const batch = Math.min(limit.burst ?? 1, Math.max(1, (rate * TOKEN_WAIT_MS) / 1000));
    return Math.max(1, ((batch - left) / rate) * 1000);
  }

  /**
   * The wait after a limit's claim found nothing it could take: a relay with many idle limits
   * (a tenant each) would otherwise open a transaction per limit every poll. A publish of the
   * limit finishing in this relay ends the wait early.
   */
  private idleLimitMs(): number {
    return Math.max(this.o.idleMs, IDLE_LIMIT_MS);
  }

  private serves(p: LimitPattern): boolean {
    const s = this.o.served;
    if (!s || p.kind === 'tenant') return true;
    if (s.routes.includes(p.route)) return true;
    return p.kind === 'route'
      ? s.exact.some((e) => e.startsWith(`${p.route}:`))
      : s.exact.includes(p.destination);
  }
}
