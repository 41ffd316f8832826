import { APPLICATION_NAME_PREFIX } from '../../core/store/index.js';
import { describeError } from '../../core/foundation/errors.js';
import { applyDestinationPolicies } from '../../core/maintenance/destination-limits.js';
import { LATEST_MIGRATION_VERSION } from '../../core/migrations/migrate.js';
import { schemaFit } from '../../core/migrations/schema-state.js';
import { createRelay, type Relay } from '../../core/relay/relay.js';
import { DEFAULT_CONCURRENCY } from '../../core/relay/relay-options.js';
import type { Scheduler } from '../../jobs/scheduler.js';
import { buildPublishers } from '../runtime/build-publishers.js';
import { databaseAddress, openDatabase, waitForCliDatabase } from '../runtime/cli-database.js';
import { createCliScheduler, relayOptions } from '../runtime/cli-jobs.js';
import { attachRelayHooks } from '../runtime/relay-hooks.js';
import { asCoreLogger, createCliLogger } from '../runtime/cli-logger.js';
import { type Command, EXIT_FAILURE, EXIT_OK } from '../command.js';
import { type HttpServerOptions, type RunningHttpServer, startHttpServer } from '../http/http-server.js';
import { loadConfig, redactConfig } from '../config/load-config.js';
import { workerRoles } from '../config/worker-roles.js';
import { createMetrics } from '../http/metrics.js';
import { DatabaseWaitTimeoutError, DB_WAIT_MAX_DELAY_MS } from '../runtime/wait-for-database.js';
import { runRelayOnce } from './run-command.js';

/** Extra time after SHUTDOWN_TIMEOUT_MS before a stuck shutdown is cut short. */
const SHUTDOWN_GRACE_MS = 5_000;

/** `outbox-relay start`: the long-running worker. */
export const startCommand: Command = {
  name: 'start',
  summary: 'run the relay, the cron jobs and the HTTP endpoint until SIGTERM',
  usage: `Usage: outbox-relay start

WORKER_MODE=all (default) runs the relay and the cron jobs; relay or jobs runs one of them.
Seed 003's WORKER_MODE=0|1 and JOB_RUNNER_ENABLED follow its matrix (README, WORKER_MODE).
The relay polls continuously, or drains once per OUTBOX_CRON tick with RELAY_SCHEDULE=cron.
Cron jobs (ENABLE_JOBS): cleanup (CLEANUP_CRON, RETENTION_DAYS), retry-dead (ENABLE_RETRY_DEAD,
RETRY_CRON); each runs on one instance at a time, once per tick across replicas.
HTTP_PORT enables GET /healthz /readyz /metrics /api/jobs/status /api/stats, the status page at /
(JSON: /api/status /api/destinations /api/throughput /api/dead/groups; Bearer ADMIN_TOKEN when set)
and, with ADMIN_TOKEN, POST /api/admin/jobs/run/:jobName and /api/admin/dead/replay|purge.
WORKER_RUN_ONCE=true drains once and exits instead (like \`run --drain\`).
A database that does not answer yet is waited for (retried with backoff up to ${DB_WAIT_MAX_DELAY_MS / 1000} s apart, each
failed attempt logged at warn): /healthz says 200 and /readyz 503 meanwhile; DB_WAIT_TIMEOUT_MS
ends the wait with exit 1 (unset: wait as long as it takes); SIGTERM during the wait exits 0.
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
    const roles = workerRoles(config);
    const runsRelay = roles.relay;
    const runsJobs = config.enableJobs && roles.jobs;
    // pg pools connect lazily: opening one here opens no connection yet.
    const database = openDatabase(config.databaseUrl!, {
      max: Math.min(20, 4 + Math.ceil((config.concurrency ?? DEFAULT_CONCURRENCY) / 8)),
      logger: core,
      applicationName: `${APPLICATION_NAME_PREFIX}${config.workerId}`,
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
    const { host, port } = databaseAddress(config.databaseUrl!);
    let notReadyReason: string | undefined = `waiting for the database at ${host}:${port}`;
    const httpOptions: HttpServerOptions | undefined =
      config.httpPort === undefined
        ? undefined
        : {
            port: config.httpPort,
            host: config.httpHost,
            db: database.db,
            schema: config.schema,
            logger: core,
            metrics,
            notReadyReason: () => notReadyReason,
            ...(config.adminToken ? { adminToken: config.adminToken } : {}),
            ...(config.metricsToken ? { metricsToken: config.metricsToken } : {}),
          };
    // A signal while the database is not there yet ends the wait at once, with exit 0.
    const waitAbort = new AbortController();
    const onSignalWhileWaiting = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'stopping while waiting for the database');
      waitAbort.abort();
    };
    process.on('SIGTERM', onSignalWhileWaiting);
    process.on('SIGINT', onSignalWhileWaiting);
    const closeEarly = async () => {
      await relay?.stop({ timeoutMs: 1000 }).catch(() => undefined);
      await scheduler?.stop({ timeoutMs: 1000 }).catch(() => undefined);
      await http?.close().catch(() => undefined);
      await database.close().catch(() => undefined);
    };
    try {
      // Listening first: /healthz answers and /readyz says 503 while the database is awaited.
      if (httpOptions) http = await startHttpServer(httpOptions);
      const schemaState = await waitForCliDatabase(config.databaseUrl!, {
        schema: config.schema,
        // Unset: a daemon waits for its database as long as it takes.
        timeoutMs: config.dbWaitTimeoutMs,
        logger: core,
        signal: waitAbort.signal,
      });
      if (schemaState === undefined) {
        await closeEarly();
        logger.info({ code: EXIT_OK }, 'stopped');
        return EXIT_OK;
      }
      const fit = schemaFit(schemaState);
      if (fit === 'too_old' || fit === 'too_new') {
        logger.error(
          { schema: config.schema, version: schemaState.version, expected: LATEST_MIGRATION_VERSION },
          fit === 'too_old'
            ? 'schema is not current: run `outbox-relay migrate` first'
            : 'schema is newer than this build: a later release migrated it in a way this one cannot claim from; run that release instead',
        );
        await closeEarly();
        return EXIT_FAILURE;
      }
      if (config.destinationLimits) {
        const applied = await applyDestinationPolicies(database.db, config.destinationLimits, {
          schema: config.schema,
        });
        logger.info(
          { limits: config.destinationLimits },
          `applied ${applied} DESTINATION_LIMITS to the table`,
        );
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
        await attachRelayHooks(relay, relayPublishers, config, core);
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
      http?.attach({ ...(relay ? { relay } : {}), ...(scheduler ? { scheduler } : {}) });
      notReadyReason = undefined;
    } catch (error) {
      await closeEarly();
      // Its message is the one line to print (main writes it to stderr and exits 1).
      if (error instanceof DatabaseWaitTimeoutError) throw error;
      logger.error({ err: describeError(error) }, 'could not start');
      return EXIT_FAILURE;
    } finally {
      // No await between here and the shutdown handlers below: no signal falls in between.
      process.off('SIGTERM', onSignalWhileWaiting);
      process.off('SIGINT', onSignalWhileWaiting);
    }
    logger.info(
      {
        // Unset settings are left out: pino's redaction would print `[redacted]` for an unset
        // ADMIN_TOKEN, which reads as if one were set.
        config: Object.fromEntries(Object.entries(redactConfig(config)).filter(([, v]) => v !== undefined)),
        relay: relay ? 'continuous' : runsRelay ? 'cron' : 'off',
        jobs: scheduler?.names ?? [],
        httpPort: http?.port,
      },
      'outbox-relay started',
    );

    return new Promise<number>((resolve) => {
      let shuttingDown = false;
      // The relay stopped itself: the schema is not this build's (a later release migrated it).
      // Not ready, and exit non-zero so the orchestrator replaces this process.
      relay?.once('fault', (fault) => {
        notReadyReason = fault.message;
        if (!shuttingDown) shutdown(undefined, EXIT_FAILURE);
      });
      // Not the listener itself: Node passes a signal listener the signal's number as well.
      const onSignal = (signal: NodeJS.Signals) => shutdown(signal, EXIT_OK);
      const shutdown = (signal: NodeJS.Signals | undefined, exitCode: number) => {
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
          let code = exitCode;
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
