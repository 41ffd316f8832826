import { buildPublishers } from '../runtime/build-publishers.js';
import { withCommandDatabase } from '../runtime/cli-database.js';
import { createCliScheduler } from '../runtime/cli-jobs.js';
import { asCoreLogger } from '../runtime/cli-logger.js';
import { type Command, EXIT_FAILURE, EXIT_OK, UsageError } from '../command.js';
import { formatTable } from './format-table.js';

const USAGE = `Usage:
  outbox-relay jobs list [--json]     the jobs, their schedule and last recorded run
  outbox-relay jobs run <name>        run one now (under the same lock as scheduled runs)

Built-in jobs: relay (OUTBOX_CRON, scheduled when RELAY_SCHEDULE=cron), cleanup (CLEANUP_CRON,
RETENTION_DAYS), retry-dead (RETRY_CRON, scheduled when ENABLE_RETRY_DEAD=true).
Aliases: outbox = relay, retry = retry-dead.
Exit 1 when the run failed or the job is running on another instance.`;

/** `outbox-relay jobs list|run <name>`. */
export const jobsCommand: Command = {
  name: 'jobs',
  summary: 'list the cron jobs and their last runs, or run one now',
  usage: USAGE,
  flags: { json: { type: 'boolean', description: 'JSON output (list)' } },
  run(ctx) {
    const [sub, name, extra] = ctx.args;
    if (sub !== 'list' && sub !== 'run')
      throw new UsageError(sub ? `unknown jobs subcommand "${sub}"` : 'jobs needs list or run', USAGE);
    if (sub === 'run' && !name) throw new UsageError('jobs run needs a job name', USAGE);
    if ((sub === 'list' && name !== undefined) || extra !== undefined)
      throw new UsageError('unexpected argument', USAGE);
    return withCommandDatabase(ctx, async ({ config, database, logger }) => {
      const core = asCoreLogger(logger);
      const scheduler = createCliScheduler(config, {
        db: database.db,
        logger: core,
        publishers: () => buildPublishers(config, { logger: core, db: database.db }),
      });
      if (sub === 'list') {
        const status = await scheduler.status();
        if (ctx.flags.json === true) {
          ctx.stdout.write(`${JSON.stringify(status)}\n`);
          return EXIT_OK;
        }
        ctx.stdout.write(
          formatTable([
            ['job', 'schedule', 'last start', 'last status', 'result / error'],
            ...status.map((j) => [
              j.aliases.length > 0 ? `${j.name} (${j.aliases.join(', ')})` : j.name,
              j.cron ?? 'on demand',
              j.lastRun?.startedAt.toISOString() ?? '-',
              j.lastRun?.status ?? '-',
              (
                j.lastRun?.error ??
                (j.lastRun?.result === undefined ? '' : JSON.stringify(j.lastRun.result)) ??
                ''
              ).slice(0, 100),
            ]),
          ]),
        );
        return EXIT_OK;
      }
      if (!scheduler.has(name!))
        throw new UsageError(`no job named "${name}" (jobs: ${scheduler.names.join(', ')})`, USAGE);
      const outcome = await scheduler.runOnce(name!);
      ctx.stdout.write(`${JSON.stringify({ job: name, ...outcome })}\n`);
      return outcome.status === 'succeeded' ? EXIT_OK : EXIT_FAILURE;
    });
  },
};
