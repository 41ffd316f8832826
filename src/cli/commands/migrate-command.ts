import { migrate } from '../../core/migrations/migrate.js';
import { withCommandDatabase } from '../runtime/cli-database.js';
import { asCoreLogger } from '../runtime/cli-logger.js';
import { type Command, EXIT_OK } from '../command.js';

/** `outbox-relay migrate`: create or upgrade the outbox schema. */
export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'create or upgrade the outbox tables (safe to run from many processes)',
  usage: `Usage: outbox-relay migrate

Applies the numbered migrations that are missing in OUTBOX_SCHEMA under an advisory lock.
Idempotent and forward-only: a no-op when the schema is current. Each catalog step waits at
most 100 ms for a table lock, then steps back and retries (logged), for up to 5 minutes.`,
  run: (ctx) =>
    withCommandDatabase(ctx, async ({ config, database, logger }) => {
      // The logger reports each time a busy table lock made it step back and retry.
      const r = await migrate(database.db, { schema: config.schema, logger: asCoreLogger(logger) });
      ctx.stdout.write(
        r.applied.length > 0
          ? `applied migrations ${r.applied.join(', ')} to schema "${config.schema}"; now at version ${r.version}\n`
          : `schema "${config.schema}" is current (version ${r.version})\n`,
      );
      return EXIT_OK;
    }),
};
