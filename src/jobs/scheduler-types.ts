// The scheduler's public types: what a job gets, what a run returns, the Scheduler interface.
import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { Clock } from '../core/foundation/clock.js';
import type { Logger } from '../core/foundation/logger.js';
import type { JobRun } from './job-runs-store.js';
import type { JobTransactionFn } from './job-transaction.js';

/** What a job function gets. */
export interface JobContext {
  readonly name: string;
  /** Aborted when the scheduler stops and the run overstays the stop deadline. */
  readonly signal: AbortSignal;
  /** Logs with `[Job:<name>]` in front of every message. */
  readonly logger: Logger;
  readonly reason: 'scheduled' | 'manual';
  /** The cron slot this run is for (scheduled runs only). */
  readonly tick: Date | undefined;
  /**
   * Runs `fn` in the transaction that will record this run, with an outbox bound to it: the
   * job's writes and events commit with the run's `job_runs` row, or roll back if the job throws.
   */
  transaction<T>(fn: JobTransactionFn<T>): Promise<T>;
}

/** A job: whatever it resolves with is stored as the run's result (JSON). */
export type JobFunction = (context: JobContext) => unknown | Promise<unknown>;

/** How one run attempt ended. `skipped` means another run (here or on another instance) had it. */
export type JobOutcome =
  | { status: 'succeeded'; result: unknown; durationMs: number }
  | { status: 'failed'; error: string; durationMs: number }
  | { status: 'skipped'; reason: 'running-here' | 'running-elsewhere' | 'tick-taken' | 'stopping' };

/** A registered job and its last recorded run. */
export interface JobStatus {
  name: string;
  /** Null for jobs that only run on demand. */
  cron: string | null;
  /** Other names it answers to (`alias`), e.g. seed 004's `outbox` for `relay`. */
  aliases: string[];
  /** Running in this process right now. */
  running: boolean;
  /** Has a cron timer in this process (seed 004's `running` meant this). */
  scheduled: boolean;
  nextRunAt: Date | null;
  lastRun: JobRun | undefined;
}

/** Options of `createScheduler`. */
export interface SchedulerOptions {
  /** A kysely instance or pg Pool: each run takes one connection of its own for its lock. */
  db: Kysely<any> | pg.Pool;
  schema?: string;
  /** Shown in job_runs.worker_id. Default `<hostname>:<pid>`. */
  workerId?: string;
  logger?: Logger;
  clock?: Clock;
  /** IANA time zone of the cron expressions. Default the process's. */
  timezone?: string;
  /**
   * Each successful run writes a `job.completed` event (`{ job, reason, tick, workerId,
   * durationMs, result }`) to this destination, in the transaction that records the run.
   */
  eventsDestination?: string;
}

/** The scheduler's events, for metrics. */
export interface SchedulerEvents {
  finished: [name: string, outcome: JobOutcome];
}

/** Cron jobs that run on one instance at a time, once per tick across replicas. */
export interface Scheduler {
  /**
   * Adds a job. `cronExpression` has 5 fields (or 6, seconds first); null means the job only
   * runs through `runOnce` (CLI `jobs run`, admin API). Names are unique.
   */
  register(name: string, cronExpression: string | null, fn: JobFunction): this;
  /**
   * Lets `alias` name the registered job `target` in `runOnce` and `has` (runs are recorded
   * under `target`): another system's job names without a second job.
   */
  alias(alias: string, target: string): this;
  /** Starts the cron timers. Returns at once. */
  start(): void;
  /** Stops the timers and waits for running jobs (aborting them after `timeoutMs`). */
  stop(options?: { timeoutMs?: number }): Promise<void>;
  /** Runs a job now (a manual run): under the same lock, recorded the same way. */
  runOnce(name: string): Promise<JobOutcome>;
  /** Registered jobs with their last recorded run. */
  status(): Promise<JobStatus[]>;
  /** True for a registered job's name or one of its aliases. */
  has(name: string): boolean;
  readonly names: readonly string[];
  on<E extends keyof SchedulerEvents>(event: E, listener: (...args: SchedulerEvents[E]) => void): this;
}
