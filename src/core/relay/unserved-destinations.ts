import { describeError } from '../foundation/errors.js';
import type { RunSql } from '../foundation/queryable.js';
import { StatusStore, UNSERVED_COUNT_LIMIT } from '../store/index.js';
import type { ResolvedRelayOptions } from './relay-options.js';

/**
 * Warns once, at a relay's first claim, about due messages it will never claim because none of
 * its publishers serves their destination. The classic first-hour trap: `add` without a
 * destination writes to `default`, the relay registered `{ webhook }`, and the message waits
 * forever while `runOnce` says `claimed: 0` and nothing is logged. Routing stays explicit (a
 * relay in a mixed fleet must not take another's messages), so this says it instead. One
 * query; its failure is logged and never stops the relay.
 *
 * @example
 * await warnUnservedDestinations(run, resolvedOptions);
 */
export async function warnUnservedDestinations(run: RunSql, o: ResolvedRelayOptions): Promise<void> {
  if (!o.destinations) return; // deadLetterUnroutable: every destination is claimed
  const served = [...o.destinations.routes, ...o.destinations.exact.map((d) => d.split(':')[0]!)];
  const publishers = Object.keys(o.publishers).join(', ');
  try {
    const rows = await new StatusStore(o.schema).unservedDue(run, { served, clock: o.clock });
    for (const { route, due, sample } of rows) {
      const count = due >= UNSERVED_COUNT_LIMIT ? `${due}+` : String(due);
      const fix = route === 'default' ? o.hints.defaultDestination : o.hints.unservedDestination;
      o.logger.warn(
        { route, due, sample, publishers },
        `${count} due ${due === 1 ? 'message waits' : 'messages wait'} for destination "${sample}"${sample === route ? '' : ` (route "${route}")`}, ` +
          `which no publisher of this relay serves (publishers: ${publishers}); they stay pending until ` +
          `a relay serving it runs: ${fix}`,
      );
    }
  } catch (error) {
    o.logger.warn({ err: describeError(error) }, 'could not check for destinations no publisher serves');
  }
}
