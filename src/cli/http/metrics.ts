import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { listDestinations } from '../../core/maintenance/destinations.js';
import { getStats } from '../../core/maintenance/outbox-stats.js';
import type { Queryable } from '../../core/foundation/queryable.js';
import type { Relay } from '../../core/relay/relay.js';
import type { Scheduler } from '../../jobs/scheduler.js';

/** The binary's Prometheus metrics. */
export interface RelayMetrics {
  readonly registry: Registry;
  /** Counts a relay's deliveries, failures and dead letters, and times its claims and publishes. */
  observeRelay(relay: Relay): void;
  /** Counts job runs by job and outcome. */
  observeScheduler(scheduler: Scheduler): void;
  /** Prometheus text; refreshes the gauges read from the database first. */
  render(): Promise<string>;
}

/**
 * Creates the metrics registry `/metrics` serves: counters by destination and type, claim and
 * publish latency histograms, pending/oldest-pending/dead gauges read from the database at
 * scrape time, and job runs.
 *
 * @example
 * const metrics = createMetrics({ db, schema: 'outbox' }); metrics.observeRelay(relay);
 * res.end(await metrics.render());
 */
export function createMetrics(options: {
  db: Queryable;
  schema: string;
  defaultMetrics?: boolean;
}): RelayMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const labels = ['destination', 'type'] as const;
  const delivered = new Counter({
    name: 'outbox_messages_delivered_total',
    help: 'Messages delivered',
    labelNames: labels,
    registers: [registry],
  });
  const failed = new Counter({
    name: 'outbox_messages_failed_total',
    help: 'Failed attempts scheduled for retry',
    labelNames: labels,
    registers: [registry],
  });
  const dead = new Counter({
    name: 'outbox_messages_dead_total',
    help: 'Messages dead-lettered',
    labelNames: labels,
    registers: [registry],
  });
  const relayErrors = new Counter({
    name: 'outbox_relay_errors_total',
    help: 'Relay loop errors (database unreachable...)',
    registers: [registry],
  });
  const claimSeconds = new Histogram({
    name: 'outbox_claim_duration_seconds',
    help: 'Duration of a claim statement that returned rows',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  const publishSeconds = new Histogram({
    name: 'outbox_publish_duration_seconds',
    help: 'Duration of one publish attempt',
    labelNames: ['destination', 'outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const pending = new Gauge({
    name: 'outbox_pending_messages',
    help: 'Pending and in-flight messages',
    registers: [registry],
  });
  const deadNow = new Gauge({
    name: 'outbox_dead_messages',
    help: 'Dead messages in the table',
    registers: [registry],
  });
  const oldest = new Gauge({
    name: 'outbox_oldest_pending_age_seconds',
    help: 'Age of the oldest undelivered message',
    registers: [registry],
  });
  const oldestByDestination = new Gauge({
    name: 'outbox_destination_oldest_pending_age_seconds',
    help: 'Age of the oldest pending message per destination (one no running relay serves keeps growing)',
    labelNames: ['destination'],
    registers: [registry],
  });
  const paused = new Gauge({
    name: 'outbox_destination_paused',
    help: '1 while a destination is paused for every relay (reason gone: it answered 410), 0 once resumed',
    labelNames: ['destination', 'reason'],
    registers: [registry],
  });
  const throttled = new Gauge({
    name: 'outbox_destination_throttled_messages',
    help: 'Messages waiting on a rate limit or concurrency cap, per limit pattern (webhook:acme, webhook:*, tenant:acme)',
    labelNames: ['destination'],
    registers: [registry],
  });
  const breakerOpen = new Gauge({
    name: 'outbox_destination_breaker_open',
    help: "1 while a destination's circuit breaker is open for every relay (state open, or half-open while a probe is out), 0 once closed",
    labelNames: ['destination', 'state'],
    registers: [registry],
  });
  const up = new Gauge({
    name: 'outbox_database_up',
    help: '1 when the last stats query succeeded',
    registers: [registry],
  });
  const jobRuns = new Counter({
    name: 'outbox_job_runs_total',
    help: 'Job runs by outcome',
    labelNames: ['job', 'status'],
    registers: [registry],
  });
  const jobSeconds = new Histogram({
    name: 'outbox_job_duration_seconds',
    help: 'Duration of job runs',
    labelNames: ['job'],
    buckets: [0.01, 0.1, 0.5, 1, 5, 30, 120, 600],
    registers: [registry],
  });

  return {
    registry,
    observeRelay(relay) {
      relay.on('delivered', (m, info) => {
        delivered.inc({ destination: m.destination, type: m.type });
        publishSeconds.observe({ destination: m.destination, outcome: 'delivered' }, info.durationMs / 1000);
      });
      relay.on('failed', (m, _error, info) => {
        failed.inc({ destination: m.destination, type: m.type });
        publishSeconds.observe({ destination: m.destination, outcome: 'failed' }, info.durationMs / 1000);
      });
      relay.on('dead', (m) => dead.inc({ destination: m.destination, type: m.type }));
      relay.on('claimed', (_n, info) => claimSeconds.observe(info.durationMs / 1000));
      relay.on('error', () => relayErrors.inc());
    },
    observeScheduler(scheduler) {
      scheduler.on('finished', (job, outcome) => {
        jobRuns.inc({ job, status: outcome.status });
        if (outcome.status !== 'skipped') jobSeconds.observe({ job }, outcome.durationMs / 1000);
      });
    },
    async render() {
      try {
        const s = await getStats(options.db, { schema: options.schema });
        pending.set(s.byStatus.pending + s.byStatus.in_flight);
        deadNow.set(s.byStatus.dead);
        oldest.set(s.oldestPendingAgeSeconds);
        oldestByDestination.reset();
        for (const d of s.byDestination)
          if (d.status === 'pending')
            oldestByDestination.set({ destination: d.destination }, d.oldestAgeSeconds);
        paused.reset();
        throttled.reset();
        breakerOpen.reset();
        for (const d of await listDestinations(options.db, { schema: options.schema })) {
          paused.set({ destination: d.name, reason: d.pausedReason ?? '' }, d.paused ? 1 : 0);
          breakerOpen.set({ destination: d.name, state: d.breaker }, d.breaker === 'closed' ? 0 : 1);
          if (d.limit) throttled.set({ destination: d.name }, d.limit.throttled);
        }
        up.set(1);
      } catch {
        // A scrape still answers with the process metrics; the gap shows as outbox_database_up 0.
        up.set(0);
      }
      return registry.metrics();
    },
  };
}
