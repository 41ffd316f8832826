import type { Migration } from './migration.js';

/**
 * An index over delivered rows by delivery time, for the status page's "delivered in the last
 * 5/60 minutes" and per-minute throughput. Without it those read every retained delivered row
 * (millions); with it they read only the last hour's. It is partial, so pending, in-flight and
 * dead rows never enter it, and it carries `destination` so the counts are index-only scans.
 * Its cost is one more index entry per delivery (the row's update is never HOT anyway: the
 * status change already moves it out of messages_claimable_idx).
 */
export const deliveredAtIndexMigration: Migration = {
  version: 6,
  name: 'delivered-at-index',
  previousRelays: {
    during: true,
    after: true,
    note: 'a new index; older relays claim as before',
  },
  sql: (s) => `
create index messages_delivered_at_idx on ${s}.messages (delivered_at, destination)
  where status = 'delivered';
`,
};
