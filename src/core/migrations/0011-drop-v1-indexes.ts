import type { Migration } from './migration.js';

/**
 * Drops the claim indexes of relays older than storage v2 (migration 7), each naming `status` in
 * its predicate: one such index makes every v2 claim non-HOT. A relay of such a release claims
 * through them (without messages_claimable_idx and messages_ordering_idx its claim walks the
 * primary key and probes each key's earlier rows by scanning, 0.5-2 s per claim with 8,000 due
 * rows), so they go last, after every other online step of this release: migration 7 dropped
 * them at its own end until #28's measurements showed migration 10's concurrent index build
 * waiting 1.8 s on those slow claims, and the old relays falling to 0.1x of their rate for the
 * rest of `migrate`. A plain DROP needs ACCESS EXCLUSIVE for milliseconds: it waits at most
 * lockTimeoutMs for it and is retried, so producers never queue behind it for long. On a fresh
 * schema the indexes never existed, and this is a no-op.
 */
export const dropV1IndexesMigration: Migration = {
  version: 11,
  name: 'drop-v1-indexes',
  previousRelays: {
    during: true,
    // Relays of the release before it (with the schema fence, storage v2) never use them.
    after: true,
    note: 'drops the claim indexes of relays older than storage v2, which migration 7 already told to stop; relays of the release before it never use them',
  },
  sql: () => '',
  online: (s) => [
    {
      sql: `drop index if exists ${[
        'messages_claimable_idx',
        'messages_route_idx',
        'messages_delivered_at_idx',
        'messages_ordering_idx',
        'messages_dead_idx',
      ]
        .map((name) => `${s}.${name}`)
        .join(', ')}`,
      exclusive: true,
    },
  ],
};
