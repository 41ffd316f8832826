import type { RunSql } from '../core/foundation/queryable.js';
import { quoteSchema } from '../core/foundation/schema-name.js';

/** One recorded run of a job. */
export interface JobRun {
  id: string;
  jobName: string;
  tick: Date | null;
  reason: 'scheduled' | 'manual';
  workerId: string;
  status: 'running' | 'succeeded' | 'failed';
  startedAt: Date;
  finishedAt: Date | null;
  result: unknown;
  error: string | null;
}

/** Runs kept per job: enough history for operators, bounded for every-second test jobs. */
export const JOB_RUNS_KEPT_PER_JOB = 1000;

function toRun(r: Record<string, any>): JobRun {
  return {
    id: String(r.id),
    jobName: r.job_name,
    tick: r.tick,
    reason: r.reason,
    workerId: r.worker_id,
    status: r.status,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    result: r.result,
    error: r.error,
  };
}

/**
 * Every SQL statement of the job scheduler, over `<schema>.job_runs` (migration 3) and
 * PostgreSQL advisory locks.
 *
 * @example
 * const store = new JobRunsStore('outbox');
 * const id = await store.begin(run, { jobName: 'cleanup', tick, reason: 'scheduled', workerId, now });
 */
export class JobRunsStore {
  private readonly t: string;
  readonly schema: string;

  constructor(schema: string) {
    this.schema = schema;
    this.t = `${quoteSchema(schema)}.job_runs`;
  }

  /**
   * Session-level advisory lock of one job, on the connection that runs it. Held for the
   * whole run, so a job never runs on two instances at once; released by `unlock`, or by
   * PostgreSQL when the connection dies with the process.
   */
  async tryLock(run: RunSql, jobName: string): Promise<boolean> {
    const [row] = await run<{ locked: boolean }>(`select pg_try_advisory_lock(hashtext($1)) as locked`, [
      `outbox-relay:job:${this.schema}:${jobName}`,
    ]);
    return row?.locked === true;
  }

  async unlock(run: RunSql, jobName: string): Promise<void> {
    await run(`select pg_advisory_unlock(hashtext($1))`, [`outbox-relay:job:${this.schema}:${jobName}`]);
  }

  /**
   * Records the start of a run and returns its id, or undefined when this tick of this job
   * was already taken by another instance (the unique (job_name, tick) pair).
   */
  async begin(
    run: RunSql,
    args: { jobName: string; tick: Date | null; reason: 'scheduled' | 'manual'; workerId: string; now: Date },
  ): Promise<string | undefined> {
    const rows = await run<{ id: string }>(
      `insert into ${this.t} (job_name, tick, reason, worker_id, started_at)
       values ($1, $2, $3, $4, $5)
       on conflict (job_name, tick) do nothing
       returning id`,
      [args.jobName, args.tick, args.reason, args.workerId, args.now],
    );
    return rows[0] ? String(rows[0].id) : undefined;
  }

  /** Records the end of a run. */
  async finish(
    run: RunSql,
    args: {
      id: string;
      status: 'succeeded' | 'failed';
      result: string | null;
      error: string | null;
      now: Date;
    },
  ): Promise<void> {
    await run(
      `update ${this.t} set status = $2, result = $3::jsonb, error = $4, finished_at = $5 where id = $1`,
      [args.id, args.status, args.result, args.error, args.now],
    );
  }

  /**
   * Marks runs left 'running' by a process that died mid-run as failed. Called while holding
   * the job's lock, so no live run of the job can be among them.
   */
  async abandonRunning(run: RunSql, jobName: string, now: Date): Promise<number> {
    const rows = await run(
      `update ${this.t} set status = 'failed', finished_at = $2, error = 'abandoned: the process ended during the run'
        where job_name = $1 and status = 'running' returning id`,
      [jobName, now],
    );
    return rows.length;
  }

  /** Deletes all but the newest `keep` runs of a job (uses job_runs_job_idx). */
  async prune(run: RunSql, jobName: string, keep = JOB_RUNS_KEPT_PER_JOB): Promise<void> {
    await run(
      `delete from ${this.t} where job_name = $1 and id < (
         select id from ${this.t} where job_name = $1 order by id desc offset $2 limit 1)`,
      [jobName, keep - 1],
    );
  }

  /** The newest run of each job (uses job_runs_job_idx once per job). */
  async latest(run: RunSql, jobNames: readonly string[]): Promise<Map<string, JobRun>> {
    const rows = await run(
      `select r.* from unnest($1::text[]) as j(name)
         cross join lateral (select * from ${this.t} where job_name = j.name order by id desc limit 1) r`,
      [jobNames],
    );
    return new Map(rows.map((r) => [r.job_name as string, toRun(r)]));
  }

  /** Recent runs of one job, newest first. */
  async history(run: RunSql, jobName: string, limit: number): Promise<JobRun[]> {
    const rows = await run(`select * from ${this.t} where job_name = $1 order by id desc limit $2`, [
      jobName,
      limit,
    ]);
    return rows.map(toRun);
  }
}
