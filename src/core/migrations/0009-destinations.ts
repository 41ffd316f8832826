import type { Migration } from './migration.js';

/**
 * Destinations paused fleet-wide (issue #22; guide: docs/destinations.md). One row per
 * destination an operator (or a 410 Gone answer) ever paused: `paused_until` in the future
 * means paused (`infinity` until resumed), null or past means flowing. Relays read it in every
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
    after: false,
    note: 'a new table; older relays ignore pauses and keep sending to paused destinations. They stop by themselves at the schema fence once it is applied',
  },
  sql: (s) => `
create table if not exists ${s}.destinations (
  name          text primary key,
  paused_until  timestamptz,
  paused_reason text,
  paused_at     timestamptz,
  updated_at    timestamptz not null default now()
);
`,
};
