import type { Migration } from './migration.js';

/**
 * The delivery-attempt log (docs/attempts.md): one row per attempt the relay chose to record
 * (`ATTEMPT_LOG` / `attemptLog`), written by the write-back statement that records the attempt's
 * outcome, and one per replay of a dead message. No primary key: nothing looks a row up by one,
 * and every index is one more entry written per logged attempt on the drain's hot path.
 *
 * - `message_row_id` is the message's `id` (the hot row's, kept by the archive), `message_id`
 *   its uuid; no foreign key, since the row moves to the archive and may be purged.
 * - `at` is the database time the outcome was written; `started_at` is that time minus the
 *   attempt's age on the relay's monotonic clock, so hosts' clock drift never shows.
 */
export const attemptLogMigration: Migration = {
  version: 8,
  name: 'attempt-log',
  previousRelays: {
    during: true,
    after: true,
    note: 'a new table; older relays never write to it, so their attempts are simply not logged',
  },
  sql: (s) => `
create table if not exists ${s}.attempts (
  message_row_id bigint not null,
  message_id     uuid not null,
  destination    text not null,
  attempt        int not null,
  outcome        text not null,
  started_at     timestamptz not null,
  duration_ms    float8 not null,
  status_code    int,
  error_code     text,
  detail         text,
  worker_id      text,
  at             timestamptz not null default now()
);
-- Retention (cleanup deletes by age, oldest first) and "attempts since" without a destination.
create index if not exists attempts_at_idx on ${s}.attempts (at);
-- A message's story: its attempts in order.
create index if not exists attempts_message_idx on ${s}.attempts (message_id, at);
-- A destination's last attempts (the status page's drill-down, \`attempts --destination\`).
create index if not exists attempts_destination_idx on ${s}.attempts (destination, at);
alter table ${s}.attempts set (autovacuum_vacuum_insert_scale_factor = 0.05);
`,
};
