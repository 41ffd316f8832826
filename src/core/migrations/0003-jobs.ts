import type { Migration } from './migration.js';

/**
 * Runs of the cron jobs (`src/jobs`): one row per run with its start, end, result and error.
 * The unique (job_name, tick) pair is what makes a scheduled tick run once across replicas:
 * every instance fires at the same tick, and only the one whose insert wins runs it.
 */
export const jobsMigration: Migration = {
  version: 3,
  name: 'jobs',
  previousRelays: {
    during: true,
    after: true,
    note: 'a new table (cron job runs); older relays never read it',
  },
  sql: (s) => `
create table ${s}.job_runs (
  id           bigint generated always as identity primary key,
  job_name     text not null check (job_name <> ''),
  -- The cron slot this run is for; null for manual runs (CLI, admin API), which never clash.
  tick         timestamptz,
  reason       text not null check (reason in ('scheduled', 'manual')),
  worker_id    text not null,
  status       text not null default 'running' check (status in ('running', 'succeeded', 'failed')),
  started_at   timestamptz not null,
  finished_at  timestamptz,
  result       jsonb,
  error        text,
  unique (job_name, tick)
);

-- "Last run of each job" (status endpoint, jobs list) and retention both walk this.
create index job_runs_job_idx on ${s}.job_runs (job_name, id desc);
`,
};
