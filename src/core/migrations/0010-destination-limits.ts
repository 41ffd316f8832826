import { indexBuildSteps } from './index-builds.js';
import type { Migration } from './migration.js';

/**
 * Rate limits and concurrency caps held fleet-wide (issue #22; guide: docs/destinations.md).
 * One row per limit: `pattern` is a destination (`webhook:acme`), every destination of a route
 * (`webhook:*`), or a tenant (`tenant:acme`). `tokens` and `refilled_at` are the token bucket
 * every relay draws from under the row's lock, so the limit holds for the fleet, not per process.
 *
 * Messages waiting on a limit are "throttled": their `available_at` moves to a far-future mark,
 * out of the claim's due range, so a throttled backlog costs other destinations' claims nothing.
 * Limited claims find them through messages_route_v2_idx (destination limits) or
 * messages_tenant_idx (tenant limits), added here for that: a partial index over unfinished rows
 * that name a tenant; rows without a tenant never enter it.
 */
export const destinationLimitsMigration: Migration = {
  version: 10,
  name: 'destination-limits',
  previousRelays: {
    during: true,
    // Throttled rows sit past every build's due range, so an older relay never sends them; it
    // only ignores limits for rows that become due while it runs (a rolling deploy's minutes).
    after: true,
    note: 'a new table and a partial index (built at once while the table is small, else concurrently); relays of the release before it ignore limits (they send what becomes due at full speed) until they are replaced: nothing is lost or sent twice',
  },
  sql: (s) => `
create table if not exists ${s}.destination_limits (
  pattern        text primary key,
  rate           float8,
  burst          int,
  max_in_flight  int,
  tokens         float8 not null default 0,
  refilled_at    timestamptz not null default now(),
  source         text not null default 'runtime',
  updated_at     timestamptz not null default now(),
  check (rate is null or rate > 0),
  check (burst is null or burst >= 1),
  check (max_in_flight is null or max_in_flight >= 1),
  check (rate is not null or max_in_flight is not null)
);
`,
  online: (s, concurrently) =>
    indexBuildSteps(s, concurrently, [
      `messages_tenant_idx on ${s}.messages (tenant_id, available_at, id)
         where tenant_id is not null and delivered_at is null and dead_at is null and not parked`,
    ]),
};
