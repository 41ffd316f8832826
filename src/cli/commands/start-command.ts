import { describeError } from '../../core/errors.js';
import { LATEST_MIGRATION_VERSION, schemaVersion } from '../../core/migrate.js';
import { createRelay, type Relay } from '../../core/relay.js';
import type { Scheduler } from '../../jobs/scheduler.js';
import { buildPublishers } from '../build-publishers.js';
import { openDatabase } from '../cli-database.js';
import { createCliScheduler, relayOptions } from '../cli-jobs.js';
import { asCoreLogger, createCliLogger } from '../cli-logger.js';
import { type Command, EXIT_FAILURE, EXIT_OK } from '../command.js';
import { loadConfig, redactConfig } from '../load-config.js';
import { type RunningHttpServer, startHttpServer } from '../http-server.js';
import { createMetrics } from '../metrics.js';
import { runRelayOnce } from './run-command.js';

/** Extra time after SHUTDOWN_TIMEOUT_MS before a stuck shutdown is cut short. */
const SHUTDOWN_GRACE_MS = 5_000;

/** `outbox-relay start`: the long-running worker. */
export const startCommand: Command = {
  name: 'start',
  summary: 'run the relay, the cron jobs and the HTTP endpoint until SIGTERM',
  usage: `Usage: outbox-relay start

WORKER_MODE=all (default) runs the relay and the cron jobs; relay or jobs runs one of them.
The relay polls continuously, or drains once per OUTBOX_CRON tick with RELAY_SCHEDULE=cron.
Cron jobs (ENABLE_JOBS): cleanup (CLEANUP_CRON, RETENTION_DAYS), retry-dead (ENABLE_RETRY_DEAD,
RETRY_CRON); each runs on one instance at a time, once per tick across replicas.
HTTP_PORT enables GET /healthz /readyz /metrics /api/jobs/status /api/stats, the status page at /
(JSON: /api/status /api/destinations /api/throughput /api/dead/groups; Bearer ADMIN_TOKEN when set)
and, with ADMIN_TOKEN, POST /api/admin/jobs/run/:jobName and /api/admin/dead/replay|purge.
WORKER_RUN_ONCE=true drains once and exits instead (like \`run --drain\`).
SIGTERM/SIGINT: stop claiming, finish or release in-flight messages, finish jobs, close HTTP,
exit 0 within SHUTDOWN_TIMEOUT_MS; a second signal exits at once.`,
  async run(ctx) {
    const { config } = loadConfig(ctx.env, ctx.flags, {
      requireDatabase: true,
      isTty: ctx.stdout.isTTY === true,
    });
    if (config.workerRunOnce) return runRelayOnce(ctx, { drain: true });
    const logger = createCliLogger({ level: config.logLevel, pretty: config.logPretty, fd: 1 });
    const core = asCoreLogger(logger);
    const runsRelay = config.workerMode !== 'jobs';
    const runsJobs = config.enableJobs && config.workerMode !== 'relay';
    // pg pools connect lazily: opening one here opens no connection yet.
    const database = openDatabase(config.databaseUrl!, {
      max: Math.min(20, 4 + Math.ceil(config.concurrency / 8)),
      logger: core,
      applicationName: `outbox-relay:${config.workerId}`,
    });
    // Publisher config errors exit 2 here, before any connection is opened. The routeros
    // publisher needs the db (its devices live there): without it, start always exited 2.
    let publishers: Awaited<ReturnType<typeof buildPublishers>> | undefined;
    try {
      publishers = runsRelay ? await buildPublishers(config, { logger: core, db: database.db }) : undefined;
    } catch (error) {
      await database.close();
      throw error;
    }
    let relay: Relay | undefined;
    let scheduler: Scheduler | undefined;
    let http: RunningHttpServer | undefined;
    const metrics = createMetrics({ db: database.db, schema: config.schema });
    try {
      const version = await schemaVersion(database.db, { schema: config.schema });
      if (version < LATEST_MIGRATION_VERSION) {
        logger.error(
          { schema: config.schema, version, expected: LATEST_MIGRATION_VERSION },
          'schema is not current: run `outbox-relay migrate` first',
        );
        await database.close();
        return EXIT_FAILURE;
      }
      const relayPublishers = publishers;
      if (runsRelay && config.relaySchedule === 'continuous' && relayPublishers) {
        relay = createRelay({
          db: database.db,
          ...relayOptions(config),
          publishers: relayPublishers,
          logger: core,
        });
        metrics.observeRelay(relay);
        relay.start();
      }
      const scheduleRelay = runsRelay && config.relaySchedule === 'cron';
      if (runsJobs || scheduleRelay) {
        scheduler = createCliScheduler(config, {
          db: database.db,
          logger: core,
          publishers: async () =>
            relayPublishers ?? buildPublishers(config, { logger: core, db: database.db }),
          roles: { relay: scheduleRelay, maintenance: runsJobs },
        });
        metrics.observeScheduler(scheduler);
        scheduler.start();
      }
      if (config.httpPort !== undefined) {
        http = await startHttpServer({
          port: config.httpPort,
          host: config.httpHost,
          db: database.db,
          schema: config.schema,
          logger: core,
          metrics,
          ...(scheduler ? { scheduler } : {}),
          ...(relay ? { relay } : {}),
          ...(config.adminToken ? { adminToken: config.adminToken } : {}),
        });
      }
    } catch (error) {
      logger.error({ err: describeError(error) }, 'could not start');
      await relay?.stop({ timeoutMs: 1000 }).catch(() => undefined);
      await scheduler?.stop({ timeoutMs: 1000 }).catch(() => undefined);
      await http?.close().catch(() => undefined);
      await database.close().catch(() => undefined);
      return EXIT_FAILURE;
    }
    logger.info(
      {
        config: redactConfig(config),
        relay: relay ? 'continuous' : runsRelay ? 'cron' : 'off',
        jobs: scheduler?.names ?? [],
        httpPort: http?.port,
      },
      'outbox-relay started',
    );

    return new Promise<number>((resolve) => {
      let shuttingDown = false;
      const onSignal = (signal: NodeJS.Signals) => {
        if (shuttingDown) {
          logger.warn({ signal }, 'second signal: exiting now');
          process.exit(EXIT_FAILURE);
        }
        shuttingDown = true;
        logger.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down');
        const force = setTimeout(() => {
          logger.error({}, 'shutdown overran its deadline: exiting now');
          process.exit(EXIT_FAILURE);
        }, config.shutdownTimeoutMs + SHUTDOWN_GRACE_MS);
        force.unref();
        void (async () => {
          let code = EXIT_OK;
          const step = async (what: string, fn: () => Promise<void> | undefined) => {
            try {
              await fn();
            } catch (error) {
              code = EXIT_FAILURE;
              logger.error({ err: describeError(error) }, `${what} failed during shutdown`);
            }
          };
          await Promise.all([
            step('stopping the relay', () => relay?.stop({ timeoutMs: config.shutdownTimeoutMs })),
            step('stopping the jobs', () => scheduler?.stop({ timeoutMs: config.shutdownTimeoutMs })),
          ]);
          await step('closing HTTP', () => http?.close());
          await step('closing the database', () => database.close());
          logger.info({ code }, 'stopped');
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
          clearTimeout(force);
          resolve(code);
        })();
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    });
  },
};
