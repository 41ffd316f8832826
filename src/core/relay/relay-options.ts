import { pino } from 'pino';
import type { Publisher } from '../foundation/publisher.js';
import type { Clock } from '../foundation/clock.js';
import { OutboxValidationError } from '../foundation/errors.js';
import type { Logger } from '../foundation/logger.js';
import type { Queryable } from '../foundation/queryable.js';
import { type RetryPolicy, resolveRetryPolicy } from './retry-policy.js';
import { DEFAULT_SCHEMA } from '../foundation/schema-name.js';
import type { ClaimArgs, ClaimRoutes } from '../store/index.js';
import { type IntBounds, requireInt } from '../foundation/option-checks.js';
import type { TraceParentMode } from '../foundation/tracing.js';
import { MAX_ATTEMPTS_BOUNDS } from '../foundation/message.js';
import { defaultWorkerId } from '../foundation/worker-id.js';
import { ATTEMPT_LOG_MODES, type AttemptLogMode, DEFAULT_ATTEMPT_LOG } from './attempt-record.js';
import {
  type BreakerOptions,
  type ResolvedBreakerOptions,
  resolveBreakerOptions,
} from './breaker-options.js';

/**
 * Rows claimed per statement unless configured. 500 drained 100k no-op messages 1.3x faster
 * than 200 (bench/drain.ts); slow publishers are protected by the lease budget (claim-pacing.ts).
 */
export const DEFAULT_BATCH_SIZE = 500;
/** Publishes running at once unless configured. */
export const DEFAULT_CONCURRENCY = 32;
/** Idle poll interval; the poll is the safety net behind any wake-up. */
export const DEFAULT_POLL_INTERVAL_MS = 50;
/** How long a claim is ours before another relay may take the row (crash recovery time). */
export const DEFAULT_LEASE_MS = 60_000;
/** How long `stop()` waits for in-flight publishes before cutting them off. */
export const DEFAULT_STOP_TIMEOUT_MS = 10_000;

/**
 * The range of each integer option of `createRelay`, declared once: the validator below and the
 * binary's settings table (BATCH_SIZE, CONCURRENCY, ...) both read it.
 */
export const RELAY_OPTION_BOUNDS = {
  batchSize: { min: 1, max: 10_000 },
  concurrency: { min: 1, max: 10_000 },
  pollIntervalMs: { min: 1, max: 3_600_000 },
  leaseMs: { min: 100, max: 86_400_000 },
  stopTimeoutMs: { min: 0, max: 3_600_000 },
  /** No row can hold more attempts than a producer may give it. */
  maxAttempts: MAX_ATTEMPTS_BOUNDS,
} as const satisfies Record<string, IntBounds>;

const B = RELAY_OPTION_BOUNDS;

/** Options of `createRelay`. */
export interface RelayOptions {
  /** kysely instance or pg Pool. Each claim and write-back is one autocommit statement. */
  db: Queryable;
  schema?: string;
  /**
   * Publishers by route. A message goes to `publishers[destination]`, else to
   * `publishers[<destination up to the first ':'>]` (`routeros:tower-3` -> `routeros`).
   * The relay claims only destinations one of them serves (see `deadLetterUnroutable`).
   */
  publishers: Record<string, Publisher>;
  /** Shown in `locked_by`. Default `<hostname>:<pid>:<random>`. */
  workerId?: string;
  batchSize?: number;
  /**
   * Publishes running at once. Default `DEFAULT_CONCURRENCY`, or the largest `concurrency` its
   * publishers ask for (`NatsPublisher`: 128).
   */
  concurrency?: number;
  pollIntervalMs?: number;
  /** How long a claimed row is this relay's (database time). Default 60 s. */
  leaseMs?: number;
  /**
   * Deadline of one publish attempt; its signal is aborted then. Default leaseMs / 2, at most
   * 90% of leaseMs. A queued message is started only while its deadline ends inside its lease.
   */
  publishTimeoutMs?: number;
  stopTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /**
   * Caps every message's attempts: a row dies after `min(row.max_attempts, maxAttempts)`.
   * Default: each row's own `max_attempts` (set by `add`, default 25).
   */
  maxAttempts?: number;
  /**
   * Claim every destination and dead-letter those no publisher serves (`dead_reason =
   * 'unroutable'`), as relays did before they filtered by destination. Default false: other
   * destinations stay pending for the relays that serve them, and show in stats as waiting.
   */
  deadLetterUnroutable?: boolean;
  logger?: Logger;
  /**
   * For tests: times the relay writes and compares come from this clock instead of the
   * database's now(). Leave it unset in production, where hosts' clocks drift.
   */
  clock?: Clock;
  /** Source of jitter, [0, 1). */
  random?: () => number;
  /** Aborting it stops the relay, like `stop()`. */
  signal?: AbortSignal;
  /**
   * With OpenTelemetry tracing on (a tracer provider registered), each attempt's `send` span is
   * a child of the producer's context stored with the message (`'child'`, default: one trace
   * from the request that wrote the message to the receiver), or starts a new trace linked to
   * it (`'link'`: what the messaging conventions suggest when delivery may come hours later).
   */
  traceParent?: TraceParentMode;
  /**
   * Which attempts go to the attempt log (`<schema>.attempts`, read by `listAttempts`), written
   * by the same write-back statement that records each outcome: `'failures'` (default:
   * transient, permanent and lease-lost attempts), `'all'` (delivered ones too) or `'off'`.
   */
  attemptLog?: AttemptLogMode;
  /** Call `close()` on every publisher when the relay stops. Default true. */
  closePublishers?: boolean;
  /**
   * How the relay's advice names what to change. Default: this API's option names. The binary
   * passes its environment variables, so a warning speaks the language of where it is read.
   */
  hints?: RelayHints;
  /**
   * Run claim and write-backs as named prepared statements when `db` is a `pg` Pool (kysely
   * cannot). Default true. Set false behind PgBouncer in transaction mode older than 1.21.
   */
  preparedStatements?: boolean;
  /**
   * The circuit breaker, on by default (docs/destinations.md#circuit-breaker): a destination
   * whose attempts fail transiently at a high rate waits, with one probe per interval, instead
   * of using up its messages' attempts. `{ enabled: false }` turns it off.
   */
  breaker?: BreakerOptions;
  /**
   * A destination (e.g. `webhook:ops`) that receives operational events as ordinary outbox
   * messages: `outbox.destination.opened`, `outbox.destination.closed`, `outbox.message.dead`.
   * Default: none.
   */
  opsEventsDestination?: string;
}

/**
 * The advice in the relay's warnings, worded for where they are read.
 *
 * @example
 * createRelay({ db, publishers, hints: { publishDeadline: 'raise LEASE_MS' } });
 */
export interface RelayHints {
  /** What to change when the publish deadline is shorter than a publisher's own timeout. */
  readonly publishDeadline?: string;
  /** What to do about due messages of a destination no publisher of the relay serves. */
  readonly unservedDestination?: string;
  /** The same for destination `default`, where `add` without a destination writes. */
  readonly defaultDestination?: string;
}

const DEFAULT_HINTS: Required<RelayHints> = {
  publishDeadline: 'raise leaseMs, or set publishTimeoutMs (at most 90% of leaseMs)',
  unservedDestination: 'add a publisher for it to publishers, or run a relay that has one',
  defaultDestination:
    'messages added without a destination go to "default": give add() a destination, or register the publisher as default too (publishers: { webhook, default: webhook })',
};

/**
 * Warns once per publisher whose own timeout (`Publisher.timeoutMs`) is longer than the relay's
 * publish deadline: its slow attempts are cut at the deadline, which a lease of 500 ms once did
 * silently to a 15 s webhook timeout.
 *
 * @example
 * warnShortDeadlines(resolveRelayOptions({ db, publishers, leaseMs: 500 }));
 */
export function warnShortDeadlines(o: ResolvedRelayOptions): void {
  for (const [route, publisher] of Object.entries(o.publishers)) {
    const own = publisher.timeoutMs;
    if (typeof own !== 'number' || own <= o.publishTimeoutMs) continue;
    o.logger.warn(
      { route, publisher: publisher.name, publisherTimeoutMs: own, publishTimeoutMs: o.publishTimeoutMs },
      `publish deadline ${o.publishTimeoutMs} ms (lease ${o.leaseMs} ms) is shorter than publisher ` +
        `"${publisher.name}"'s own timeout of ${own} ms: its slower attempts are cut at ` +
        `${o.publishTimeoutMs} ms (a lease of ${own * 2} ms or more covers it): ${o.hints.publishDeadline}`,
    );
  }
}

/** Options after defaults and validation. */
export interface ResolvedRelayOptions {
  schema: string;
  publishers: Record<string, Publisher>;
  /** Which destinations the claim takes; undefined: all (`deadLetterUnroutable`). */
  destinations: ClaimRoutes | undefined;
  workerId: string;
  batchSize: number;
  concurrency: number;
  pollIntervalMs: number;
  leaseMs: number;
  publishTimeoutMs: number;
  stopTimeoutMs: number;
  retry: RetryPolicy;
  maxAttempts: number | undefined;
  logger: Logger;
  clock: Clock | undefined;
  random: () => number;
  closePublishers: boolean;
  preparedStatements: boolean;
  traceParent: TraceParentMode;
  attemptLog: AttemptLogMode;
  hints: Required<RelayHints>;
  breaker: ResolvedBreakerOptions;
  opsEventsDestination: string | undefined;
}

function defaultLogger(): Logger {
  return pino({ name: 'outbox-relay', level: 'info' });
}

/**
 * Validates `createRelay` options and fills in the defaults, naming the first bad field.
 *
 * @example
 * const o = resolveRelayOptions({ db, publishers: { webhook } }); o.leaseMs // 60000
 */
export function resolveRelayOptions(options: RelayOptions): ResolvedRelayOptions {
  if (!options || typeof options !== 'object')
    throw new OutboxValidationError('options', 'must be an object');
  if (!options.db) throw new OutboxValidationError('db', 'is required: a kysely instance or a pg Pool');
  if (
    !options.publishers ||
    typeof options.publishers !== 'object' ||
    Object.keys(options.publishers).length === 0
  ) {
    throw new OutboxValidationError('publishers', 'must map at least one destination to a Publisher');
  }
  for (const [route, p] of Object.entries(options.publishers)) {
    if (!p || typeof p.publish !== 'function') {
      throw new OutboxValidationError(
        `publishers.${route}`,
        'must be a Publisher (an object with publish(message, context))',
      );
    }
  }
  const keys = Object.keys(options.publishers);
  const leaseMs = requireInt(options.leaseMs ?? DEFAULT_LEASE_MS, 'leaseMs', B.leaseMs);
  const workerId = options.workerId ?? defaultWorkerId();
  return {
    schema: options.schema ?? DEFAULT_SCHEMA,
    publishers: { ...options.publishers },
    destinations: options.deadLetterUnroutable
      ? undefined
      : { routes: keys.filter((k) => !k.includes(':')), exact: keys.filter((k) => k.includes(':')) },
    workerId,
    batchSize: requireInt(options.batchSize ?? DEFAULT_BATCH_SIZE, 'batchSize', B.batchSize),
    concurrency:
      options.concurrency === undefined
        ? publishersConcurrency(options.publishers)
        : requireInt(options.concurrency, 'concurrency', B.concurrency),
    pollIntervalMs: requireInt(
      options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
      'pollIntervalMs',
      B.pollIntervalMs,
    ),
    leaseMs,
    publishTimeoutMs: requireInt(options.publishTimeoutMs ?? Math.floor(leaseMs / 2), 'publishTimeoutMs', {
      min: 1,
      max: Math.floor(leaseMs * 0.9),
    }),
    stopTimeoutMs: requireInt(
      options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS,
      'stopTimeoutMs',
      B.stopTimeoutMs,
    ),
    retry: resolveRetryPolicy(options.retry),
    maxAttempts:
      options.maxAttempts === undefined
        ? undefined
        : requireInt(options.maxAttempts, 'maxAttempts', B.maxAttempts),
    logger: (options.logger ?? defaultLogger()).child({ component: 'relay', workerId }),
    clock: options.clock,
    random: options.random ?? Math.random,
    closePublishers: options.closePublishers ?? true,
    preparedStatements: options.preparedStatements ?? true,
    traceParent: traceParentMode(options.traceParent),
    attemptLog: attemptLogMode(options.attemptLog),
    hints: { ...DEFAULT_HINTS, ...options.hints },
    breaker: resolveBreakerOptions(options.breaker),
    opsEventsDestination: opsDestination(options.opsEventsDestination),
  };
}

function opsDestination(name: unknown): string | undefined {
  if (name === undefined) return undefined;
  if (typeof name === 'string' && name !== '' && name.length <= 500) return name;
  throw new OutboxValidationError(
    'opsEventsDestination',
    `must be a destination name, got ${JSON.stringify(name)}`,
  );
}

function traceParentMode(mode: unknown): TraceParentMode {
  if (mode === undefined || mode === 'child' || mode === 'link') return mode ?? 'child';
  throw new OutboxValidationError('traceParent', `must be 'child' or 'link', got ${JSON.stringify(mode)}`);
}

function attemptLogMode(mode: unknown): AttemptLogMode {
  if (mode === undefined) return DEFAULT_ATTEMPT_LOG;
  if (ATTEMPT_LOG_MODES.includes(mode as AttemptLogMode)) return mode as AttemptLogMode;
  throw new OutboxValidationError(
    'attemptLog',
    `must be one of ${ATTEMPT_LOG_MODES.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(mode)}`,
  );
}

/**
 * The arguments every claim of the relay shares (all but its limit).
 *
 * @example
 * store.claim(run, { ...claimArgs(o), limit: 100 });
 */
export function claimArgs(o: ResolvedRelayOptions): Omit<ClaimArgs, 'limit'> {
  return {
    ...(o.clock ? { clock: o.clock } : {}),
    leaseMs: o.leaseMs,
    workerId: o.workerId,
    ...(o.destinations ? { destinations: o.destinations } : {}),
    ...(o.maxAttempts !== undefined ? { maxAttempts: o.maxAttempts } : {}),
  };
}

/**
 * A relay's concurrency when none is set: the largest its publishers ask for
 * (`Publisher.concurrency`), never fewer than `DEFAULT_CONCURRENCY`.
 */
function publishersConcurrency(publishers: Readonly<Record<string, Publisher>>): number {
  let concurrency = DEFAULT_CONCURRENCY;
  for (const [route, p] of Object.entries(publishers)) {
    if (p.concurrency === undefined) continue;
    concurrency = Math.max(
      concurrency,
      requireInt(p.concurrency, `publishers.${route}.concurrency`, RELAY_OPTION_BOUNDS.concurrency),
    );
  }
  return concurrency;
}
