import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { NOOP_LOGGER } from '../../../src/core/foundation/logger.js';
import { createRelay, type Relay } from '../../../src/core/relay/relay.js';
import { waitFor } from '../../support/recording-publisher.js';
import {
  Deliveries,
  Ledger,
  runProducers,
  type ScenarioDatabase,
  type Verdict,
  verify,
  waitForDrained,
} from '../harness.js';

/** Sizes of the races scenario. */
export interface RaceSizes {
  readonly relays: number;
  readonly producers: number;
  readonly messagesPerProducer: number;
  /** Share of transactions held open until later ids have been delivered. */
  readonly longTxRatio: number;
}

/**
 * Several relays on one table, each with its own pool, and many producers, some of which
 * hold a transaction (and so a low id) open until later ids have been committed *and
 * delivered*: a relay that polled "id > last seen" would skip the late ones for ever.
 */
export async function racesScenario(
  t: ScenarioDatabase,
  sizes: RaceSizes,
): Promise<Verdict & { heldTransactions: number }> {
  const startedAt = Date.now();
  const ledger = new Ledger();
  const deliveries = new Deliveries();
  const pools: pg.Pool[] = [];
  const relays: Relay[] = [];
  for (let i = 0; i < sizes.relays; i++) {
    const pool = new pg.Pool({ connectionString: t.url, max: 4 });
    pools.push(pool);
    const relay = createRelay({
      db: new Kysely<any>({ dialect: new PostgresDialect({ pool }) }),
      schema: t.schema,
      logger: NOOP_LOGGER,
      workerId: `race-${i}`,
      batchSize: 20,
      concurrency: 8,
      pollIntervalMs: 10,
      leaseMs: 30_000,
      publishers: {
        default: {
          name: 'ledger',
          async publish(message) {
            deliveries.record(message.messageId);
          },
        },
      },
    });
    relays.push(relay);
    relay.start();
  }
  try {
    const { heldTransactions } = await runProducers(t, ledger, {
      producers: sizes.producers,
      messagesPerProducer: sizes.messagesPerProducer,
      rollbackRatio: 0.1,
      longTxRatio: sizes.longTxRatio,
      keysPerProducer: 2,
      seed: 3,
      holdUntil: () => {
        const base = deliveries.order.length;
        // Held until later ids were delivered past ours (or nothing else is left to deliver).
        return waitFor(
          () => deliveries.order.length >= base + 30 || deliveries.counts.size >= ledger.committed.size,
          'later messages to be delivered while a transaction holds a low id',
          30_000,
        );
      },
    });
    await waitForDrained(t, 'every committed message delivered', 60_000 + 5 * ledger.committed.size, {
      context: () =>
        `relays running: ${relays.map((r) => r.running)}; counters ${JSON.stringify(relays.map((r) => r.counters()))}`,
    });
    const verdict = await verify(t, ledger, deliveries, {
      scenario: `3 races (${sizes.relays} relays, ${sizes.producers} producers, long tx)`,
      startedAt,
    });
    return { ...verdict, heldTransactions };
  } finally {
    await Promise.all(relays.map((r) => r.stop()));
    await Promise.all(pools.map((p) => p.end()));
  }
}
