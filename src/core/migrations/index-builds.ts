import type { OnlineStep } from './migration.js';

/** Below this many rows in `messages`, an online migration builds its indexes plainly, at once. */
export const SMALL_TABLE_ROWS = 20_000;

/**
 * The online steps that build `indexes` (each `<name> on <table> (...) where ...`) on
 * `messages`. Online (a live schema), a table still small gets them all from plain builds in
 * one short transaction: a few milliseconds of SHARE lock, taken politely (lockTimeoutMs, then
 * retried), where each CREATE INDEX CONCURRENTLY waits three times for every transaction running
 * on the table: 130-220 ms per index under relays and producers against 10-30 ms idle
 * (test/reliability/upgrade.test.ts). A larger table takes the concurrent builds, which then
 * follow as no-ops on a small one ("if not exists" returns before any wait). In a transaction
 * (a fresh schema, a caller's transaction) they are plain builds.
 *
 * @example
 * online: (s, concurrently) => indexBuildSteps(s, concurrently, [`messages_x_idx on ${s}.messages (x)`])
 */
export function indexBuildSteps(
  s: string,
  concurrently: 'concurrently' | '',
  indexes: readonly string[],
): OnlineStep[] {
  const concurrent = indexes.map((ix) => ({ sql: `create index ${concurrently} if not exists ${ix}` }));
  if (!concurrently) return concurrent;
  const plain = indexes.map((ix) => `create index if not exists ${ix};`).join('\n                  ');
  return [
    {
      sql: `do $build$ begin
              if (select count(*) from (select 1 from ${s}.messages limit ${SMALL_TABLE_ROWS}) x) < ${SMALL_TABLE_ROWS} then
                  ${plain}
              end if;
            end $build$`,
      exclusive: true,
    },
    ...concurrent,
  ];
}
