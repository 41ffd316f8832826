import { describeError } from '../../core/foundation/errors.js';
import { listDestinations } from '../../core/maintenance/destinations.js';
import { LATEST_MIGRATION_VERSION, schemaVersion } from '../../core/migrations/migrate.js';
import { type Queryable, type RunSql, sqlRunner, withTransaction } from '../../core/foundation/queryable.js';
import type { Relay } from '../../core/relay/relay.js';
import {
  type DeadGroupRow,
  type MinuteCountRow,
  type SeenWorkerRow,
  DestinationLimitStore,
  StatusStore,
} from '../../core/store/index.js';
import { parseDestination } from '../../core/foundation/parse-destination.js';
import { describeLimit } from '../admin/describe-limit.js';
import type { Scheduler } from '../../jobs/scheduler.js';
import {
  DESTINATION_STATE_RULES,
  type DestinationState,
  destinationState,
  SLOW_AFTER_SECONDS,
  STUCK_AFTER_SECONDS,
} from './destination-state.js';
import type { DeliveredMinutes } from './delivered-minutes.js';
import { FAILURE_HISTORY_MINUTES, type FailureCounters } from './failure-counters.js';

const MINUTE_MS = 60_000;
const RECENT_MINUTES = 5;
/** Dead groups returned at most; more than this many destination x reason pairs is not a page. */
export const DEAD_GROUPS_LIMIT = 500;

/** What the status routes read from. */
export interface StatusSources {
  db: Queryable;
  schema: string;
  failures: FailureCounters;
  /** Deliveries per minute, settled minutes read once (make one per schema and keep it). */
  delivered: DeliveredMinutes;
  scheduler?: Scheduler;
  relay?: Relay;
  /** True when ADMIN_TOKEN is set (and so the caller was authorized): replay/purge are offered. */
  actions: boolean;
}

/** `GET /api/status`. */
export interface StatusReport {
  now: string;
  database:
    | { reachable: true; schemaVersion: number; expectedSchemaVersion: number }
    | { reachable: false; error: string };
  relay: { thisProcess: { workerId: string; running: boolean } | null; seen: SeenWorker[] };
  jobs: { scheduler: 'running'; list: JobLine[] } | { scheduler: 'off'; reason: string; list: [] };
  actions: boolean;
}

interface SeenWorker {
  workerId: string;
  source: SeenWorkerRow['source'];
  count: number;
  lastSeen: string;
}

interface JobLine {
  name: string;
  aliases: string[];
  cron: string | null;
  running: boolean;
  nextRunAt: string | null;
  lastRun: {
    status: string;
    reason: string;
    workerId: string;
    startedAt: string;
    finishedAt: string | null;
    durationMs: number | null;
    error: string | null;
  } | null;
}

/** One row of `GET /api/destinations`. */
export interface DestinationLine {
  destination: string;
  state: DestinationState;
  pending: number;
  inFlight: number;
  oldestWaitingSeconds: number;
  oldestWaitingSince: string | null;
  delivered5m: number;
  delivered60m: number;
  /** Failed attempts seen by this process plus deaths seen by the database. */
  failed5m: number;
  failed60m: number;
  dead5m: number;
  dead60m: number;
  deadTotal: number;
  /** Set while the destination is paused: why (`gone`: it answered 410) and until when (null: until resumed). */
  paused: { reason: string; until: string | null; since: string | null } | null;
  /** Messages waiting on a limit, and the limit that governs the destination (`null`: none known). */
  throttled: number;
  limit: { pattern: string; text: string } | null;
  /** Set while its circuit breaker is open: `half-open` while a relay sends the probe; the next probe's time. */
  breaker: { state: 'open' | 'half-open'; since: string | null; probeAt: string | null } | null;
  /**
   * One error of a waiting message (why it is not going through); when none waits with an
   * error but messages died in the last hour, the newest death's reason and error; else null.
   */
  sampleError: string | null;
}

/** `GET /api/destinations`. */
export interface DestinationsReport {
  now: string;
  rules: typeof DESTINATION_STATE_RULES;
  thresholds: { slowAfterSeconds: number; stuckAfterSeconds: number };
  destinations: DestinationLine[];
}

/** `GET /api/throughput`: one entry per minute of the last hour, oldest first. */
export interface ThroughputReport {
  now: string;
  minutes: Array<{ minute: string; delivered: number; failed: number }>;
}

/** `GET /api/dead/groups`. */
export interface DeadGroupsReport {
  now: string;
  groups: Array<
    Omit<DeadGroupRow, 'firstSeen' | 'lastSeen'> & { firstSeen: string | null; lastSeen: string | null }
  >;
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

/** The database's time and the windows measured from it. */
async function windows(store: StatusStore, run: RunSql) {
  const now = await store.now(run);
  const hourAgo = new Date(now.getTime() - FAILURE_HISTORY_MINUTES * MINUTE_MS);
  // Whole minutes, so the first bucket of the chart is complete and the counts add up.
  const since = new Date(Math.floor(hourAgo.getTime() / MINUTE_MS) * MINUTE_MS + MINUTE_MS);
  const recentSince = new Date(now.getTime() - RECENT_MINUTES * MINUTE_MS);
  return { now, since, recentSince };
}

/**
 * Health: database, schema version, relays seen, this process's relay and the jobs scheduler.
 * Answers even when the database is down, so the page can say so.
 *
 * @example
 * const report = await readStatus({ db, schema: 'outbox', failures, delivered, actions: false });
 */
export async function readStatus(src: StatusSources): Promise<StatusReport> {
  const store = new StatusStore(src.schema);
  const run = sqlRunner(src.db);
  const thisProcess = src.relay ? { workerId: src.relay.workerId, running: src.relay.running } : null;
  let database: StatusReport['database'];
  let seen: SeenWorker[] = [];
  let now = new Date();
  try {
    now = await store.now(run);
    const version = await schemaVersion(src.db, { schema: src.schema });
    database = { reachable: true, schemaVersion: version, expectedSchemaVersion: LATEST_MIGRATION_VERSION };
    seen = (
      await store.seenWorkers(run, { since: new Date(now.getTime() - FAILURE_HISTORY_MINUTES * MINUTE_MS) })
    ).map((w) => ({ ...w, lastSeen: w.lastSeen.toISOString() }));
  } catch (error) {
    database = { reachable: false, error: describeError(error) };
  }
  let jobs: StatusReport['jobs'] = {
    scheduler: 'off',
    reason: 'jobs are not running in this process (WORKER_MODE/ENABLE_JOBS)',
    list: [],
  };
  if (src.scheduler && database.reachable) {
    const list = await src.scheduler.status();
    jobs = {
      scheduler: 'running',
      list: list.map((j) => ({
        name: j.name,
        aliases: j.aliases,
        cron: j.cron,
        running: j.running,
        nextRunAt: iso(j.nextRunAt),
        lastRun: j.lastRun
          ? {
              status: j.lastRun.status,
              reason: j.lastRun.reason,
              workerId: j.lastRun.workerId,
              startedAt: j.lastRun.startedAt.toISOString(),
              finishedAt: iso(j.lastRun.finishedAt),
              durationMs: j.lastRun.finishedAt
                ? j.lastRun.finishedAt.getTime() - j.lastRun.startedAt.getTime()
                : null,
              error: j.lastRun.error,
            }
          : null,
      })),
    };
  }
  return { now: now.toISOString(), database, relay: { thisProcess, seen }, jobs, actions: src.actions };
}

/**
 * One line per destination with waiting, recent delivered/failed/dead counts and its state.
 * Worst states first, then the longest waiting.
 *
 * @example
 * const { destinations } = await readDestinations(sources);
 */
export async function readDestinations(src: StatusSources): Promise<DestinationsReport> {
  const store = new StatusStore(src.schema);
  // The counts from one snapshot (one read-only transaction): read side by side, each in its
  // own, a message that died between two of them showed as dead and still in flight on one line.
  const { now, since, recentSince, open, delivered, dead, groups } = await withTransaction(
    src.db,
    async (run) => {
      await run('set transaction isolation level repeatable read, read only');
      const { now, since, recentSince } = await windows(store, run);
      const open = await store.openByDestination(run);
      const delivered = await src.delivered.read(run, { since, recentSince });
      const dead = await store.deadPerMinute(run, { since, recentSince });
      const groups = await store.deadGroups(run, { limit: 10_000 });
      return { now, since, recentSince, open, delivered, dead, groups };
    },
  );
  // After it, not beside it: on a single connection they would run ahead of SET TRANSACTION.
  const [paused, limits] = await Promise.all([
    listDestinations(src.db, { schema: src.schema }),
    new DestinationLimitStore(src.schema).list(sqlRunner(src.db)),
  ]);
  const lines = new Map<string, DestinationLine>();
  const line = (destination: string) => {
    let l = lines.get(destination);
    if (!l) {
      l = {
        destination,
        state: 'flowing',
        pending: 0,
        inFlight: 0,
        oldestWaitingSeconds: 0,
        oldestWaitingSince: null,
        delivered5m: 0,
        delivered60m: 0,
        failed5m: 0,
        failed60m: 0,
        dead5m: 0,
        dead60m: 0,
        deadTotal: 0,
        paused: null,
        throttled: 0,
        limit: null,
        breaker: null,
        sampleError: null,
      };
      lines.set(destination, l);
    }
    return l;
  };
  const attempted = new Map<string, number>();
  for (const o of open) {
    const l = line(o.destination);
    l.pending = o.pending;
    l.inFlight = o.inFlight;
    l.oldestWaitingSeconds = Math.max(0, Math.round((now.getTime() - o.oldestCreatedAt.getTime()) / 1000));
    l.oldestWaitingSince = o.oldestCreatedAt.toISOString();
    l.sampleError = o.sampleError;
    l.throttled = o.throttled;
    attempted.set(o.destination, o.attempted);
  }
  const addMinutes = (rows: MinuteCountRow[], apply: (l: DestinationLine, r: MinuteCountRow) => void) => {
    for (const r of rows) apply(line(r.destination), r);
  };
  addMinutes(delivered, (l, r) => {
    l.delivered60m += r.count;
    l.delivered5m += r.recent;
  });
  addMinutes(dead, (l, r) => {
    l.dead60m += r.count;
    l.dead5m += r.recent;
  });
  // The newest death of each destination, as "<reason>: <error>".
  const lastDeath = new Map<string, string>();
  const lastDeathAt = new Map<string, number>();
  for (const g of groups) {
    line(g.destination).deadTotal += g.count;
    const at = g.lastSeen?.getTime() ?? 0;
    if (at >= (lastDeathAt.get(g.destination) ?? -1)) {
      lastDeathAt.set(g.destination, at);
      lastDeath.set(g.destination, `died (${g.reason})${g.sampleError ? `: ${g.sampleError}` : ''}`);
    }
  }
  for (const f of src.failures.perMinute(since, new Date(now.getTime() + MINUTE_MS))) {
    const l = line(f.destination);
    l.failed60m += f.count;
    if (f.minute + MINUTE_MS > recentSince.getTime()) l.failed5m += f.count;
  }
  for (const p of paused) {
    if (p.breaker !== 'closed')
      line(p.name).breaker = { state: p.breaker, since: iso(p.breakerOpenedAt), probeAt: iso(p.probeAt) };
    if (!p.paused) continue;
    line(p.name).paused = {
      reason: p.pausedReason ?? '',
      until: iso(p.pausedUntil),
      since: iso(p.pausedAt),
    };
  }
  // The destination's own limit, else its route's (a tenant's limit is not one destination's).
  const limitOf = new Map(limits.map((x) => [x.pattern, x]));
  for (const l of lines.values()) {
    const x = limitOf.get(l.destination) ?? limitOf.get(`${parseDestination(l.destination).route}:*`);
    if (x) l.limit = { pattern: x.pattern, text: describeLimit({ ...x, throttled: 0 }) };
  }
  // Worst first, in the order of the rules (paused first: an operator's or a 410's doing).
  const order = Object.fromEntries(DESTINATION_STATE_RULES.map((r, i) => [r.state, i])) as Record<
    DestinationState,
    number
  >;
  const destinations = [...lines.values()].map((l) => {
    l.failed5m += l.dead5m;
    l.failed60m += l.dead60m;
    l.state = destinationState({
      paused: l.paused !== null,
      throttled: l.throttled,
      ...(l.breaker ? { breaker: l.breaker.state } : {}),
      waiting: l.pending + l.inFlight,
      attempted: attempted.get(l.destination) ?? 0,
      oldestWaitingSeconds: l.oldestWaitingSeconds,
      delivered5m: l.delivered5m,
      failed5m: l.failed5m,
      dead5m: l.dead5m,
    });
    // No waiting message carries an error, but messages died this hour: the row says why.
    if (l.sampleError === null && l.dead60m > 0) l.sampleError = lastDeath.get(l.destination) ?? null;
    return l;
  });
  destinations.sort(
    (a, b) =>
      order[a.state] - order[b.state] ||
      b.oldestWaitingSeconds - a.oldestWaitingSeconds ||
      a.destination.localeCompare(b.destination),
  );
  return {
    now: now.toISOString(),
    rules: DESTINATION_STATE_RULES,
    thresholds: { slowAfterSeconds: SLOW_AFTER_SECONDS, stuckAfterSeconds: STUCK_AFTER_SECONDS },
    destinations,
  };
}

/**
 * Deliveries and failures per minute over the last hour, all destinations together.
 *
 * @example
 * const { minutes } = await readThroughput(sources); // 60 entries, oldest first
 */
export async function readThroughput(src: StatusSources): Promise<ThroughputReport> {
  const store = new StatusStore(src.schema);
  const run = sqlRunner(src.db);
  const { now, since, recentSince } = await windows(store, run);
  const [delivered, dead] = await Promise.all([
    src.delivered.read(run, { since, recentSince }),
    store.deadPerMinute(run, { since, recentSince }),
  ]);
  const buckets = new Map<number, { delivered: number; failed: number }>();
  for (let m = since.getTime(); m <= now.getTime(); m += MINUTE_MS)
    buckets.set(m, { delivered: 0, failed: 0 });
  const bucket = (ms: number) => buckets.get(ms);
  for (const r of delivered) {
    const b = bucket(r.minute.getTime());
    if (b) b.delivered += r.count;
  }
  for (const r of dead) {
    const b = bucket(r.minute.getTime());
    if (b) b.failed += r.count;
  }
  for (const f of src.failures.perMinute(since, new Date(now.getTime() + MINUTE_MS))) {
    const b = bucket(f.minute);
    if (b) b.failed += f.count;
  }
  return {
    now: now.toISOString(),
    minutes: [...buckets].map(([ms, b]) => ({ minute: new Date(ms).toISOString(), ...b })),
  };
}

/**
 * Dead letters grouped by destination and reason, most recent first.
 *
 * @example
 * const { groups } = await readDeadGroups(sources);
 */
export async function readDeadGroups(src: StatusSources): Promise<DeadGroupsReport> {
  const store = new StatusStore(src.schema);
  const run = sqlRunner(src.db);
  const now = await store.now(run);
  const groups = await store.deadGroups(run, { limit: DEAD_GROUPS_LIMIT });
  return {
    now: now.toISOString(),
    groups: groups.map((g) => ({ ...g, firstSeen: iso(g.firstSeen), lastSeen: iso(g.lastSeen) })),
  };
}
