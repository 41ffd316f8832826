import { cleanupDelivered } from '../../core/maintenance/cleanup-delivered.js';
import { withCommandDatabase } from '../runtime/cli-database.js';
import { type Command, EXIT_OK, UsageError } from '../command.js';

/** `outbox-relay cleanup [days]`: delete delivered rows older than N days. */
export const cleanupCommand: Command = {
  name: 'cleanup',
  summary: 'delete delivered messages older than [days] (default RETENTION_DAYS)',
  usage: `Usage: outbox-relay cleanup [days]

Deletes delivered messages whose delivery is older than <days> (default RETENTION_DAYS, 30),
in short batches, and attempt-log rows older than the same cutoff. Pending, in-flight and
dead messages are never touched.`,
  run: (ctx) => {
    const [daysText, extra] = ctx.args;
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`, cleanupCommand.usage);
    if (daysText !== undefined && !/^\d+$/.test(daysText)) {
      throw new UsageError(`days must be a whole number of days, got "${daysText}"`, cleanupCommand.usage);
    }
    return withCommandDatabase(ctx, async ({ config, database }) => {
      const days = daysText === undefined ? config.retentionDays : Number(daysText);
      const r = await cleanupDelivered(database.db, { olderThanDays: days, schema: config.schema });
      ctx.stdout.write(
        `deleted ${r.deleted} delivered messages and ${r.attemptsDeleted} logged attempts older than ${days} days (${r.batches} batches)\n`,
      );
      return EXIT_OK;
    });
  },
};
