import type { Migration } from './migration.js';

/**
 * Destinations paused fleet-wide (issue #22; guide: docs/destinations.md). One row per
 * destination an operator (or a 410 Gone answer) ever paused: `paused_until` in the future
 * means paused (`infinity` until resumed), null or past means flowing. `breaker_state = 'open'`
means its circuit breaker is open (it failed transiently at a high rate): held like a pause,
one probe message per `probe_at` (taken by one relay through `probe_by`/`probe_lease_until`).
Relays read it in every
 * claim (one scan of this tiny table per statement), so a pause holds across every relay
 * sharing the table, without a restart.
 *
 * A paused destination's waiting rows are "held": their `available_at` is moved to
 * `paused_until`, out of the claim's due range, so claims never walk them; resume makes them
 * due at once. A new table only: no lock on `messages`.
 */
export const destinationsMigration: Migration = {
  version: 9,
  name: 'destinations',
  previousRelays: {
    during: true,
    // Safe side by side: held rows sit past the claim's due range for every build; an older
    // relay only ignores a pause for rows that become due meanwhile (a rolling deploy's minutes).
    after: true,
    note: 'a new table; relays of the release before it ignore pauses and open circuit breakers (they keep sending what becomes due to a paused or open destination, and a 410 dead-letters as before) until they are replaced: nothing is lost or sent twice',
  },
  sql: (s) => `
create table if not exists ${s}.destinations (
  name          text primary key,
  paused_until  timestamptz,
  paused_reason text,
  paused_at     timestamptz,
  updated_at    timestamptz not null default now(),
  -- The circuit breaker (docs/destinations.md#circuit-breaker): 'open' or null (closed).
  breaker_state     text,
  breaker_opened_at timestamptz,
  probe_at          timestamptz,
  probe_interval_ms integer,
  probe_by          text,
  probe_lease_until timestamptz
);
`,
};
