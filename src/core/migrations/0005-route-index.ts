import type { Migration } from './migration.js';

/**
 * The claim index by route: a relay claims only the destinations it has publishers for
 * (`routeros:tower-3` has route `routeros`), so rows of a destination no running relay serves
 * can wait pending without every claim walking over them. Same predicate as
 * messages_claimable_idx; the claim reads one ordered range per served route.
 */
export const routeIndexMigration: Migration = {
  version: 5,
  name: 'route-index',
  previousRelays: {
    during: true,
    after: true,
    note: 'a new index; older relays claim as before',
  },
  sql: (s) => `
create index messages_route_idx on ${s}.messages (split_part(destination, ':', 1), available_at, id)
  where status in ('pending', 'in_flight');
`,
};
