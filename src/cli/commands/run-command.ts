import { createRelay } from '../../core/relay/relay.js';
import { attachRelayHooks } from '../runtime/relay-hooks.js';
import { drainRelay } from '../../jobs/relay-job.js';
import { buildPublishers } from '../runtime/build-publishers.js';
import { withCommandDatabase } from '../runtime/cli-database.js';
import { relayOptions } from '../runtime/cli-jobs.js';
import { asCoreLogger } from '../runtime/cli-logger.js';
import { type Command, type CommandContext, EXIT_FAILURE, EXIT_OK } from '../command.js';

/**
 * One relay round (or a drain) and exit: the body of `run` and of `start` with WORKER_RUN_ONCE.
 *
 * @example
 * process.exitCode = await runRelayOnce(ctx, { drain: true });
 */
export async function runRelayOnce(ctx: CommandContext, options: { drain: boolean }): Promise<number> {
  return withCommandDatabase(
    ctx,
    async ({ config, database, logger }) => {
      const core = asCoreLogger(logger);
      const publishers = await buildPublishers(config, { logger: core, db: database.db });
      // SIGTERM/SIGINT mid-round stop the relay like `start`: unstarted rows go back at once
      // with their attempt instead of waiting out their leases.
      const stopping = new AbortController();
      const onSignal = () => stopping.abort();
      process.once('SIGTERM', onSignal).once('SIGINT', onSignal);
      const { signal } = stopping;
      const relay = createRelay({
        db: database.db,
        ...relayOptions(config),
        publishers,
        logger: core,
        signal,
      });
      let errors = 0;
      relay.on('error', () => errors++);
      const hooks = await attachRelayHooks(relay, publishers, config, core);
      try {
        const result = options.drain
          ? await drainRelay(relay, { signal })
          : { ...(await relay.runOnce()), rounds: 1 };
        logger.info(result, options.drain ? 'drained' : 'round done');
        ctx.stdout.write(`${JSON.stringify(result)}\n`);
      } finally {
        // Closing the publishers waits for dead-letter copies still in flight.
        await relay.stop();
        hooks.detach();
        process.off('SIGTERM', onSignal).off('SIGINT', onSignal);
      }
      return errors > 0 ? EXIT_FAILURE : EXIT_OK;
    },
    { logFd: 2 },
  );
}

/** `outbox-relay run [--drain]`: for Kubernetes CronJobs and other schedulers outside. */
export const runCommand: Command = {
  name: 'run',
  summary: 'one relay round (or --drain until nothing is due), then exit',
  usage: `Usage: outbox-relay run [--drain]

Claims one batch (BATCH_SIZE), delivers it, writes back the results and exits; with --drain,
repeats until nothing is due. Prints the counts as one JSON line:
  {"claimed":12,"delivered":11,"retried":1,"dead":0,"rounds":1}`,
  flags: { drain: { type: 'boolean', description: 'repeat rounds until nothing is due' } },
  run: (ctx) => runRelayOnce(ctx, { drain: ctx.flags.drain === true }),
};
