import { NOOP_LOGGER } from '../../src/core/foundation/logger.js';
import { migrate } from '../../src/core/migrations/migrate.js';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { createRelay } from '../../src/core/relay/relay.js';
import {
  describePgBoss,
  graphileWrite,
  pgBossWrite,
  startGraphileLatency,
  startPgBossLatency,
} from '../competitors.js';
import { type LatencyResult, steadyLatency } from '../latency.js';
import { producerPayload } from '../producer.js';
import { defineScenario, fmt } from '../scenario.js';
import { benchPool, uniqueName } from '../support/bench-pool.js';
import { noopPublisher } from '../support/noop-publisher.js';

const RATE_PER_SECOND = 500;

/** Commit -> publish-start latency of outbox-relay at a steady rate, polling only or woken in-process. */
async function outboxLatency(url: string, seconds: number, wake: boolean): Promise<LatencyResult> {
  const schema = uniqueName('bench_latency');
  const pool = benchPool(url, 4);
  await migrate(pool, { schema });
  let onStart: (seq: number) => void = () => undefined;
  const relay = createRelay({
    db: pool,
    schema,
    logger: NOOP_LOGGER,
    publishers: { noop: noopPublisher((body) => onStart(JSON.parse(body).orderId)) },
  });
  const outbox = createOutbox({ schema, ...(wake ? { onAdded: () => relay.wake() } : {}) });
  return steadyLatency(
    url,
    {
      rate: RATE_PER_SECOND,
      seconds,
      write: (c, seq) =>
        outbox.add(c, { type: 'order.created', destination: 'noop', payload: producerPayload(seq) }),
    },
    async (cb) => {
      onStart = cb;
      relay.start();
      return async () => {
        await relay.stop();
        await pool.query(`drop schema if exists "${schema}" cascade`);
        await pool.end();
      };
    },
  );
}

/** p99 from COMMIT to the handler starting, at a steady 500 messages/s, for each system. */
export const latencyScenario = defineScenario({
  name: 'latency',
  summary: `commit -> start p99 at a steady ${RATE_PER_SECOND}/s`,
  sizes: { small: { seconds: 8 }, full: { seconds: 20 } },
  async run(ctx, size) {
    const { url } = ctx;
    const gwSchema = await ctx.graphileSchema();
    const pgb = await ctx.pgBoss();
    ctx.log(`latency: commit -> start at ${RATE_PER_SECOND}/s for ${size.seconds} s each`);
    const steady = { rate: RATE_PER_SECOND, seconds: size.seconds };
    const poll = await outboxLatency(url, size.seconds, false);
    const wake = await outboxLatency(url, size.seconds, true);
    const gw = await steadyLatency(url, { ...steady, write: graphileWrite(gwSchema) }, (cb) =>
      startGraphileLatency(url, gwSchema, cb),
    );
    const queue = uniqueName('q');
    await pgb.boss.createQueue(queue);
    const pb = await steadyLatency(url, { ...steady, write: pgBossWrite(pgb.boss, queue) }, (cb) =>
      startPgBossLatency(pgb.boss, queue, cb),
    );
    await pgb.boss.deleteQueue(queue).catch(() => undefined);
    const common = {
      scenario: `latency p99 at ${RATE_PER_SECOND}/s`,
      unit: 'ms',
      higherIsBetter: false,
    } as const;
    const d = (r: LatencyResult) => `p50 ${fmt(r.p50)} ms${r.missing ? `, ${r.missing} not started` : ''}`;
    ctx.add({
      ...common,
      system: 'outbox-relay',
      settings: 'polling only (pollIntervalMs default)',
      value: poll.p99,
      detail: d(poll),
    });
    ctx.add({
      ...common,
      system: 'outbox-relay',
      settings: 'same-process wake-up (onAdded: relay.wake)',
      value: wake.p99,
      detail: d(wake),
    });
    ctx.add({
      ...common,
      system: 'graphile-worker',
      settings: 'LISTEN/NOTIFY, concurrency 10, batched completion',
      value: gw.p99,
      detail: d(gw),
    });
    ctx.add({ ...common, system: 'pg-boss', settings: describePgBoss(), value: pb.p99, detail: d(pb) });
  },
});
