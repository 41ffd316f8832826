import type { JsonValue } from '../core/foundation/json-value.js';
import type { Queryable, RunSql } from '../core/foundation/queryable.js';
import { resultJson } from '../core/foundation/storable.js';
import type { NewMessage, Outbox } from '../core/producer/index.js';

/** The outbox as a job's transaction sees it: every add joins that transaction. */
export interface JobOutbox {
  add(message: NewMessage): Promise<string>;
  addMany(messages: readonly NewMessage[]): Promise<string[]>;
}

/** What `JobContext.transaction` hands the job: the transaction and an outbox bound to it. */
export type JobTransactionFn<T> = (trx: Queryable, outbox: JobOutbox) => Promise<T>;

/** The event a finished run writes when the scheduler has `events` (JOB_EVENTS_DESTINATION). */
export const JOB_COMPLETED_EVENT = 'job.completed';

/**
 * One run's transaction on the run's own connection (the one holding the job's advisory lock).
 * It opens on the job's first `transaction()` call, or at the end of a run that never asked
 * for one, and stays open until the run is recorded: the job's writes, its outbox events, the
 * `job.completed` event and the `job_runs` row commit together. A job that throws rolls them
 * all back: no event of a run that did not happen.
 *
 * @example
 * const tx = new JobTransaction(conn, run, outbox);
 * await tx.run(async (trx, outbox) => outbox.add({ type: 'report.built', payload: {} }));
 */
export class JobTransaction {
  #open = false;

  constructor(
    private readonly connection: Queryable,
    private readonly sql: RunSql,
    private readonly outbox: Outbox,
  ) {}

  /** Runs `fn` inside the run's transaction (opened on first use). */
  async run<T>(fn: JobTransactionFn<T>): Promise<T> {
    await this.begin();
    const bound: JobOutbox = {
      add: (message) => this.outbox.add(this.connection, message),
      addMany: (messages) => this.outbox.addMany(this.connection, messages),
    };
    return fn(this.connection, bound);
  }

  /** Adds a message in the run's transaction (opened if needed). */
  async add(message: NewMessage): Promise<string> {
    await this.begin();
    return this.outbox.add(this.connection, message);
  }

  /** Opens the transaction if the job did not; every later statement of the run joins it. */
  async begin(): Promise<void> {
    if (this.#open) return;
    await this.sql('begin');
    this.#open = true;
  }

  async commit(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    await this.sql('commit');
  }

  /** Undoes the job's writes and events; a no-op when no transaction was opened. */
  async rollback(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    await this.sql('rollback');
  }
}

/**
 * The `job.completed` event of a successful run: who ran what, how long, and the job's result
 * (its counts), ordered per job so consumers see a job's runs in order.
 *
 * @example
 * jobCompletedEvent('audit', { job: 'cleanup', reason: 'scheduled', tick, workerId }, outcome)
 */
export function jobCompletedEvent(
  destination: string,
  run: { job: string; reason: 'scheduled' | 'manual'; tick: Date | null; workerId: string },
  outcome: { durationMs: number; result: unknown },
): NewMessage {
  // Stored the way the run's result is (resultJson), so both read the same.
  const result = JSON.parse(resultJson(outcome.result) ?? 'null') as JsonValue;
  return {
    type: JOB_COMPLETED_EVENT,
    destination,
    orderingKey: `job:${run.job}`,
    payload: { ...run, tick: run.tick?.toISOString() ?? null, durationMs: outcome.durationMs, result },
  };
}
