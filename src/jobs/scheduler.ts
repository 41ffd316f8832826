import { EventEmitter } from 'node:events';
import type { Kysely } from 'kysely';
import cron, { type ScheduledTask } from 'node-cron';
import type pg from 'pg';
import { type Clock, SystemClock } from '../core/foundation/clock.js';
import { guardConnectionErrors } from '../core/foundation/connection-error-guard.js';
import { describeError, OutboxValidationError, OutboxError } from '../core/foundation/errors.js';
import { type Logger, NOOP_LOGGER } from '../core/foundation/logger.js';
import { type Queryable, queryableKind, type RunSql, sqlRunner } from '../core/foundation/queryable.js';
import { DEFAULT_SCHEMA } from '../core/foundation/schema-name.js';
import { resultJson } from '../core/foundation/storable.js';
import { defaultWorkerId } from '../core/foundation/worker-id.js';
import { cronProblem } from './cron-expression.js';
import { jobSummary } from './job-summary.js';
import { jobCompletedEvent, JobTransaction, type JobTransactionFn } from './job-transaction.js';
import { createOutbox, type Outbox } from '../core/producer/index.js';
import { prefixLogger } from './prefix-logger.js';
import { JobRunsStore } from './job-runs-store.js';
import type { JobFunction, JobOutcome, JobStatus, Scheduler, SchedulerOptions } from './scheduler-types.js';

export type {
  JobContext,
  JobFunction,
  JobOutcome,
  JobStatus,
  Scheduler,
  SchedulerEvents,
  SchedulerOptions,
} from './scheduler-types.js';

/** How long `stop()` waits for running jobs before aborting them. */
export const DEFAULT_JOB_STOP_TIMEOUT_MS = 10_000;

const JOB_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/**
 * Creates the job scheduler. Every instance of an app registers the same jobs and starts the
 * scheduler; at each tick every instance fires, and a Postgres advisory lock plus a unique
 * (job, tick) row let exactly one of them run it. A job still running when its next tick
 * comes is not started again (on any instance).
 *
 * @example
 * const scheduler = createScheduler({ db, schema: 'outbox', logger });
 * scheduler.register('nightly-report', '0 2 * * *', async ({ signal, logger }) => {
 *   logger.info({}, 'building the report');
 *   return { rows: await buildReport(signal) };
 * });
 * scheduler.start();
 * process.on('SIGTERM', () => scheduler.stop());
 */
export function createScheduler(options: SchedulerOptions): Scheduler {
  return new JobScheduler(options);
}

interface RegisteredJob {
  name: string;
  cron: string | null;
  fn: JobFunction;
  aliases: string[];
  task?: ScheduledTask;
  running?: Promise<JobOutcome>;
  abort?: AbortController;
}

class JobScheduler extends EventEmitter implements Scheduler {
  private readonly db: Kysely<any> | pg.Pool;
  private readonly store: JobRunsStore;
  private readonly workerId: string;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly timezone: string | undefined;
  private readonly outbox: Outbox;
  private readonly eventsDestination: string | undefined;
  private readonly jobs = new Map<string, RegisteredJob>();
  private readonly aliases = new Map<string, RegisteredJob>();
  private started = false;
  private stopping = false;

  constructor(options: SchedulerOptions) {
    super();
    if (!options?.db) throw new OutboxValidationError('db', 'is required: a kysely instance or a pg Pool');
    this.db = options.db;
    this.store = new JobRunsStore(options.schema ?? DEFAULT_SCHEMA);
    this.workerId = options.workerId ?? defaultWorkerId();
    this.logger = (options.logger ?? NOOP_LOGGER).child({ component: 'jobs', workerId: this.workerId });
    guardConnectionErrors(options.db as Queryable, this.logger);
    this.clock = options.clock ?? new SystemClock();
    this.timezone = options.timezone;
    this.outbox = createOutbox({ schema: options.schema ?? DEFAULT_SCHEMA });
    this.eventsDestination = options.eventsDestination;
  }

  get names(): readonly string[] {
    return [...this.jobs.keys()];
  }

  has(name: string): boolean {
    return this.find(name) !== undefined;
  }

  private find(name: string): RegisteredJob | undefined {
    return this.jobs.get(name) ?? this.aliases.get(name);
  }

  private checkNewName(name: string): void {
    if (typeof name !== 'string' || !JOB_NAME.test(name)) {
      throw new OutboxValidationError(
        'name',
        `must be lower-case letters, digits, . _ - (at most 63), got ${JSON.stringify(name)}`,
      );
    }
    if (this.has(name))
      throw new OutboxValidationError('name', `a job or alias named "${name}" is already registered`);
  }

  alias(alias: string, target: string): this {
    const job = this.jobs.get(target);
    if (!job) throw new OutboxValidationError('target', `no job named "${target}" to alias`);
    this.checkNewName(alias);
    this.aliases.set(alias, job);
    job.aliases.push(alias);
    return this;
  }

  register(name: string, cronExpression: string | null, fn: JobFunction): this {
    this.checkNewName(name);
    if (cronExpression !== null) {
      const problem = cronProblem(cronExpression);
      if (problem)
        throw new OutboxValidationError(
          'cron',
          `"${cronExpression}" is not a valid cron expression (${problem})`,
        );
    }
    if (typeof fn !== 'function') throw new OutboxValidationError('fn', 'must be a function');
    const job: RegisteredJob = { name, cron: cronExpression?.trim() ?? null, fn, aliases: [] };
    this.jobs.set(name, job);
    if (this.started) this.schedule(job);
    return this;
  }

  start(): void {
    if (this.started) return;
    if (this.stopping) throw new OutboxError('SCHEDULER_STOPPED', 'scheduler was stopped; create a new one');
    this.started = true;
    for (const job of this.jobs.values()) this.schedule(job);
    this.logger.info(
      { jobs: [...this.jobs.values()].map((j) => `${j.name}@${j.cron ?? 'manual'}`) },
      'scheduler started',
    );
  }

  private schedule(job: RegisteredJob): void {
    if (job.cron === null) return;
    job.task = cron.schedule(
      job.cron,
      async (ctx) => {
        // The slot, not the firing time: every instance computes the same tick.
        const tick = new Date(Math.floor(ctx.date.getTime() / 1000) * 1000);
        await this.execute(job, 'scheduled', tick);
      },
      { name: job.name, ...(this.timezone ? { timezone: this.timezone } : {}) },
    );
  }

  async stop(options: { timeoutMs?: number } = {}): Promise<void> {
    this.stopping = true;
    for (const job of this.jobs.values()) {
      await job.task?.stop();
      await job.task?.destroy();
      job.task = undefined;
    }
    const running = [...this.jobs.values()].filter((j) => j.running);
    if (running.length === 0) return;
    const timeoutMs = options.timeoutMs ?? DEFAULT_JOB_STOP_TIMEOUT_MS;
    this.logger.info({ jobs: running.map((j) => j.name) }, 'waiting for running jobs');
    let timer: NodeJS.Timeout | undefined;
    const all = Promise.all(running.map((j) => j.running));
    const finished = await Promise.race([
      all.then(() => true),
      new Promise<false>((r) => (timer = setTimeout(() => r(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (!finished) {
      for (const j of running) j.abort?.abort(new OutboxError('SCHEDULER_STOPPED', 'scheduler stopping'));
      await Promise.race([all, new Promise((r) => setTimeout(r, 1000))]);
    }
  }

  async runOnce(name: string): Promise<JobOutcome> {
    const job = this.find(name);
    if (!job)
      throw new OutboxValidationError(
        'name',
        `no job named "${name}" (registered: ${this.names.join(', ') || 'none'})`,
      );
    return this.execute(job, 'manual', undefined);
  }

  async status(): Promise<JobStatus[]> {
    const latest = await this.store.latest(sqlRunner(this.db as Queryable), this.names);
    return [...this.jobs.values()].map((j) => ({
      name: j.name,
      cron: j.cron,
      aliases: [...j.aliases],
      running: j.running !== undefined,
      scheduled: j.task !== undefined,
      nextRunAt: j.cron ? nextRun(j) : null,
      lastRun: latest.get(j.name),
    }));
  }

  private async execute(
    job: RegisteredJob,
    reason: 'scheduled' | 'manual',
    tick: Date | undefined,
  ): Promise<JobOutcome> {
    const log = prefixLogger(this.logger.child({ job: job.name }), `[Job:${job.name}] `);
    if (this.stopping && reason === 'scheduled') return this.skip(log, 'stopping');
    // Never overlaps itself in this process; the advisory lock covers the other processes.
    if (job.running) return this.skip(log, 'running-here');
    const abort = new AbortController();
    job.abort = abort;
    const running = this.withConnection(async (run, connection) => {
      if (!(await this.store.tryLock(run, job.name))) return this.skip(log, 'running-elsewhere');
      let tx: JobTransaction | undefined;
      try {
        const abandoned = await this.store.abandonRunning(run, job.name, this.clock.now());
        if (abandoned > 0) log.warn({ abandoned }, 'marked runs left running by a dead process as failed');
        const id = await this.store.begin(run, {
          jobName: job.name,
          tick: tick ?? null,
          reason,
          workerId: this.workerId,
          now: this.clock.now(),
        });
        if (id === undefined) return this.skip(log, 'tick-taken');
        tx = new JobTransaction(connection, run, this.outbox);
        const outcome = await this.invoke(job, log, abort.signal, reason, tick, tx);
        if (outcome.status === 'succeeded') await tx.begin();
        else await tx.rollback();
        if (outcome.status === 'succeeded' && this.eventsDestination !== undefined) {
          const run = { job: job.name, reason, tick: tick ?? null, workerId: this.workerId };
          await tx.add(jobCompletedEvent(this.eventsDestination, run, outcome));
        }
        await this.store.finish(run, {
          id,
          status: outcome.status === 'succeeded' ? 'succeeded' : 'failed',
          result: outcome.status === 'succeeded' ? resultJson(outcome.result) : null,
          error: outcome.status === 'failed' ? outcome.error : null,
          now: this.clock.now(),
        });
        await tx.commit();
        await this.store.prune(run, job.name);
        return outcome;
      } catch (error) {
        // Never hand the connection back inside a transaction (one a failed statement aborted,
        // say): undo the run's writes; the run row stays 'running' until abandonRunning.
        await tx?.rollback();
        throw error;
      } finally {
        await this.store.unlock(run, job.name);
      }
    });
    job.running = running;
    try {
      const outcome = await running;
      if (outcome.status !== 'skipped') this.emit('finished', job.name, outcome);
      return outcome;
    } catch (error) {
      // The database failed around the run (lock, bookkeeping): report it like a failed run.
      const outcome: JobOutcome = { status: 'failed', error: describeError(error), durationMs: 0 };
      log.error({ err: outcome.error }, 'could not run: database error');
      this.emit('finished', job.name, outcome);
      return outcome;
    } finally {
      job.running = undefined;
      job.abort = undefined;
    }
  }

  private skip(log: Logger, reason: Extract<JobOutcome, { status: 'skipped' }>['reason']): JobOutcome {
    log.debug({ reason }, 'skipped');
    return { status: 'skipped', reason };
  }

  private async invoke(
    job: RegisteredJob,
    log: Logger,
    signal: AbortSignal,
    reason: 'scheduled' | 'manual',
    tick: Date | undefined,
    tx: JobTransaction,
  ): Promise<JobOutcome> {
    const started = performance.now();
    log.info({ reason, tick }, 'started');
    try {
      const transaction = <T>(fn: JobTransactionFn<T>) => tx.run(fn);
      const result = await job.fn({ name: job.name, signal, logger: log, reason, tick, transaction });
      const durationMs = Math.round(performance.now() - started);
      // One line per run with its counts, as fields and as words: `[Job:relay] succeeded: delivered 5, ...`.
      const summary = jobSummary(result);
      log.info({ ...summary.counts, durationMs, result }, `succeeded${summary.text} (${durationMs} ms)`);
      return { status: 'succeeded', result, durationMs };
    } catch (error) {
      const durationMs = Math.round(performance.now() - started);
      const message = describeError(error);
      log.error({ durationMs, err: message }, 'failed');
      return { status: 'failed', error: message, durationMs };
    }
  }

  /** One connection for the whole run: a session advisory lock belongs to its connection. */
  private async withConnection<T>(fn: (run: RunSql, connection: Queryable) => Promise<T>): Promise<T> {
    const db = this.db;
    if (queryableKind(db) === 'kysely') {
      return (db as Kysely<any>).connection().execute((conn) => fn(sqlRunner(conn), conn));
    }
    const client = await (db as pg.Pool).connect();
    try {
      return await fn(sqlRunner(client), client);
    } finally {
      client.release();
    }
  }
}

function nextRun(job: RegisteredJob): Date | null {
  try {
    return job.task?.getNextRun() ?? null;
  } catch {
    return null;
  }
}
