import type { Migration } from './migration.js';

/**
 * Why a row died, as data: `max_attempts` (retries exhausted), `permanent` (the publisher said
 * so), `unroutable` (no publisher for its destination), `lease_expired` (its lease ran out
 * `max_attempts` times: it probably crashes its relay), `unstorable_result` (its result or error
 * could not be stored). The retry-dead job, the demo and the status page read this column
 * instead of parsing `last_error`, which keeps the words for people.
 */
export const deadReasonMigration: Migration = {
  version: 4,
  name: 'dead-reason',
  previousRelays: {
    during: true,
    after: true,
    note: 'a new nullable column; dead rows written by older relays show reason `unknown`',
  },
  sql: (s) => `
alter table ${s}.messages add column dead_reason text
  check (dead_reason in ('max_attempts', 'permanent', 'unroutable', 'lease_expired', 'unstorable_result'));

-- Rows that died before this column existed: the relay's own wording tells the reason.
update ${s}.messages
   set dead_reason = case
         when last_error like 'gave up after %' then 'max_attempts'
         when last_error like 'no publisher for destination %' then 'unroutable'
         else 'permanent'
       end
 where status = 'dead';
`,
};
