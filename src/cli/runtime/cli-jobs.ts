import type { Kysely } from 'kysely';
import type { Logger } from '../../core/foundation/logger.js';
import { createRelay } from '../../core/relay/relay.js';
import type { Publisher } from '../../core/foundation/publisher.js';
import { cleanupJob } from '../../jobs/cleanup-job.js';
import { relayJob } from '../../jobs/relay-job.js';
import { retryDeadJob } from '../../jobs/retry-dead-job.js';
import { createScheduler, type Scheduler } from '../../jobs/scheduler.js';
import { type CliConfig, SETTINGS } from '../config/settings.js';
import { attachRelayHooks } from './relay-hooks.js';

/**
 * Other names of the built-in jobs: seed 004's `outbox` and `retry` (design.md section 9: seed
 * names are aliases, not forks). They work in `jobs run`, the admin route and the status page.
 */
export const JOB_ALIASES = { outbox: 'relay', retry: 'retry-dead' } as const;

/** Relay options from the config, shared by `start`, `run` and the relay job. */
export function relayOptions(config: CliConfig) {
  return {
    schema: config.schema,
    workerId: config.workerId,
    batchSize: config.batchSize,
    concurrency: config.concurrency,
    pollIntervalMs: config.pollIntervalMs,
    leaseMs: config.leaseMs,
    stopTimeoutMs: config.shutdownTimeoutMs,
    maxAttempts: config.maxRetries,
    attemptLog: config.attemptLog,
    breaker: {
      enabled: config.breakerEnabled,
      minAttempts: config.breakerMinAttempts,
      windowMs: config.breakerWindowMs,
      failureRatio: config.breakerFailureRatio,
      probeMs: config.breakerProbeMs,
      probeMaxMs: config.breakerProbeMaxMs,
    },
    ...(config.opsEventsDestination !== undefined
      ? { opsEventsDestination: config.opsEventsDestination }
      : {}),
    // The relay's advice names what an operator of the binary can change.
    hints: {
      publishDeadline: `raise ${SETTINGS.leaseMs.env}`,
      unservedDestination: `add its publisher type to ${SETTINGS.publisherTypes.env}, or run a relay that has it`,
    },
    retry: { baseDelayMs: config.retryBaseMs, maxDelayMs: config.retryMaxMs, jitter: config.retryJitter },
  };
}

/**
 * The binary's scheduler with the built-in jobs: `relay` (on OUTBOX_CRON when
 * RELAY_SCHEDULE=cron, otherwise on demand only), `cleanup` (CLEANUP_CRON, RETENTION_DAYS)
 * and `retry-dead` (RETRY_CRON when ENABLE_RETRY_DEAD=true, otherwise on demand only).
 * Publishers are built on the relay job's first run, so `jobs list` needs no publisher config.
 *
 * @example
 * const scheduler = createCliScheduler(config, { db, logger, publishers: () => buildPublishers(config, { logger, db }) });
 */
export function createCliScheduler(
  config: CliConfig,
  context: {
    db: Kysely<any>;
    logger: Logger;
    publishers: () => Promise<Record<string, Publisher>>;
    /** Which schedules this process keeps: the relay job's, the maintenance jobs'. Default both. */
    roles?: { relay: boolean; maintenance: boolean };
  },
): Scheduler {
  const roles = context.roles ?? { relay: true, maintenance: true };
  const scheduler = createScheduler({
    db: context.db,
    schema: config.schema,
    workerId: config.workerId,
    logger: context.logger,
    ...(config.jobEventsDestination ? { eventsDestination: config.jobEventsDestination } : {}),
  });
  let publishers: Promise<Record<string, Publisher>> | undefined;
  scheduler.register(
    'relay',
    roles.relay && config.relaySchedule === 'cron' ? config.relayCron : null,
    async (job) => {
      publishers ??= context.publishers();
      // A relay of its own per run: it never shares in-flight state with a continuous relay.
      const relayPublishers = await publishers;
      const relay = createRelay({
        db: context.db,
        ...relayOptions(config),
        publishers: relayPublishers,
        logger: job.logger,
        closePublishers: false,
      });
      const hooks = await attachRelayHooks(relay, relayPublishers, config, job.logger);
      try {
        return await relayJob(relay)(job);
      } finally {
        hooks.detach();
      }
    },
  );
  scheduler.register(
    'cleanup',
    roles.maintenance ? config.cleanupCron : null,
    cleanupJob({ db: context.db, schema: config.schema, retentionDays: config.retentionDays }),
  );
  scheduler.register(
    'retry-dead',
    roles.maintenance && config.enableRetryDead ? config.retryCron : null,
    retryDeadJob({ db: context.db, schema: config.schema }),
  );
  for (const [alias, target] of Object.entries(JOB_ALIASES)) scheduler.alias(alias, target);
  return scheduler;
}
