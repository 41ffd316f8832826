// The `outbox-relay/jobs` entry: the cron scheduler and the built-in jobs.
export { cleanupJob } from './cleanup-job.js';
export { cronProblem } from './cron-expression.js';
export {
  JOB_COMPLETED_EVENT,
  jobCompletedEvent,
  type JobOutbox,
  type JobTransactionFn,
} from './job-transaction.js';
export { jobSummary, type JobSummary } from './job-summary.js';
export { JOB_RUNS_KEPT_PER_JOB, type JobRun, JobRunsStore } from './job-runs-store.js';
export { prefixLogger } from './prefix-logger.js';
export { DEFAULT_RELAY_DRAIN_MS, drainRelay, relayJob } from './relay-job.js';
export { DEFAULT_RETRY_DEAD_LIMIT, retryDeadJob } from './retry-dead-job.js';
export {
  createScheduler,
  DEFAULT_JOB_STOP_TIMEOUT_MS,
  type JobContext,
  type JobFunction,
  type JobOutcome,
  type JobStatus,
  type Scheduler,
  type SchedulerEvents,
  type SchedulerOptions,
} from './scheduler.js';
