import type { Migration } from './migration.js';

/** The outbox table, its claim indexes and its autovacuum settings. */
export const messagesMigration: Migration = {
  version: 1,
  name: 'messages',
  previousRelays: {
    during: true,
    after: true,
    note: 'creates the outbox: there are no older relays',
  },
  sql: (s) => `
create table ${s}.messages (
  id            bigint generated always as identity primary key,
  message_id    uuid not null unique,
  tenant_id     text,
  kind          text not null default 'event' check (kind in ('event', 'command')),
  type          text not null check (type <> ''),
  destination   text not null check (destination <> ''),
  ordering_key  text,
  payload       jsonb not null,
  headers       jsonb not null default '{}',
  status        text not null default 'pending' check (status in ('pending', 'in_flight', 'delivered', 'dead')),
  attempts      int not null default 0,
  max_attempts  int not null default 25 check (max_attempts > 0),
  available_at  timestamptz not null default now(),
  locked_by     text,
  locked_until  timestamptz,
  last_error    text,
  result        jsonb,
  created_at    timestamptz not null default now(),
  delivered_at  timestamptz,
  dead_at       timestamptz
);

-- The claim scans only this index: it holds pending rows and in-flight rows, whose
-- available_at is set to the lease end when claimed, so an expired lease makes a row
-- claimable again through the same range condition. Delivered and dead rows never enter
-- it, so claiming stays fast however many delivered rows are retained.
create index messages_claimable_idx on ${s}.messages (available_at, id)
  where status in ('pending', 'in_flight');

-- Per-key ordering: "is there an earlier unfinished message with my key?" is one probe here.
create index messages_ordering_idx on ${s}.messages (ordering_key, id)
  where status in ('pending', 'in_flight') and ordering_key is not null;

-- Dead-letter listing and replay without scanning delivered rows.
create index messages_dead_idx on ${s}.messages (id) where status = 'dead';

-- The table churns (every row is updated twice and later deleted): vacuum early so the
-- claim index stays small and dead tuples do not pile up under the hot range.
alter table ${s}.messages set (
  autovacuum_vacuum_scale_factor = 0.01,
  autovacuum_vacuum_insert_scale_factor = 0.01,
  autovacuum_analyze_scale_factor = 0.02,
  fillfactor = 90
);
`,
};
