import { DEFAULT_BATCH_SIZE, DEFAULT_CONCURRENCY } from '../../src/core/relay/relay.js';
import {
  describeGraphile,
  describePgBoss,
  drainGraphile,
  drainPgBoss,
  GRAPHILE_BEST,
  GRAPHILE_DEFAULT,
} from '../competitors.js';
import { drainOutbox } from '../drain.js';
import { alternate, defineScenario, samplesText } from '../scenario.js';

/** Drain a pre-inserted backlog with a no-op handler, on an empty table and with delivered rows retained. */
export const drainScenario = defineScenario({
  name: 'drain',
  summary: 'pre-inserted backlog drained with a no-op handler; then with delivered rows retained',
  sizes: {
    small: { messages: 20_000, retained: 200_000, reps: 3, retainedReps: 1, graphileDefault: false },
    full: { messages: 100_000, retained: 1_000_000, reps: 3, retainedReps: 1, graphileDefault: true },
  },
  async run(ctx, size) {
    const { url } = ctx;
    const gwSchema = await ctx.graphileSchema();
    const pgb = await ctx.pgBoss();
    const label = `drain ${size.messages / 1000}k`;
    ctx.log(`drain: ${size.messages} pre-inserted, no-op handler, median of ${size.reps}`);
    const r = await alternate(size.reps, {
      outbox: async () => (await drainOutbox({ url, messages: size.messages })).perSecond,
      graphile: async () => (await drainGraphile(url, gwSchema, size.messages, GRAPHILE_BEST)).perSecond,
      pgboss: async () => (await drainPgBoss(url, pgb, size.messages)).perSecond,
    });
    const throughput = { higherIsBetter: true, scenario: label } as const;
    ctx.add({
      ...throughput,
      system: 'outbox-relay',
      settings: `defaults (batchSize ${DEFAULT_BATCH_SIZE}, concurrency ${DEFAULT_CONCURRENCY}), pg Pool`,
      value: r.outbox.median,
      unit: 'msg/s',
      detail: samplesText(r.outbox.samples),
    });
    ctx.add({
      ...throughput,
      system: 'graphile-worker',
      settings: describeGraphile(GRAPHILE_BEST),
      value: r.graphile.median,
      unit: 'jobs/s',
      detail: samplesText(r.graphile.samples),
    });
    ctx.add({
      ...throughput,
      system: 'pg-boss',
      settings: describePgBoss(),
      value: r.pgboss.median,
      unit: 'jobs/s',
      detail: samplesText(r.pgboss.samples),
    });
    if (size.graphileDefault) {
      const d = await drainGraphile(url, gwSchema, 20_000, GRAPHILE_DEFAULT);
      ctx.add({
        ...throughput,
        system: 'graphile-worker',
        settings: `${describeGraphile(GRAPHILE_DEFAULT)} (20k jobs)`,
        value: d.perSecond,
        unit: 'jobs/s',
      });
    }

    ctx.log(`drain with ${size.retained} delivered rows retained`);
    const rr = await alternate(size.retainedReps, {
      outbox: async () =>
        (await drainOutbox({ url, messages: size.messages, retained: size.retained })).perSecond,
      // graphile-worker deletes completed jobs: it has nothing to retain, so this is its plain drain.
      graphile: async () => (await drainGraphile(url, gwSchema, size.messages, GRAPHILE_BEST)).perSecond,
      pgboss: async () => (await drainPgBoss(url, pgb, size.messages, size.retained)).perSecond,
    });
    const retained = {
      higherIsBetter: true,
      scenario: `${label}, ${size.retained / 1000}k retained`,
    } as const;
    ctx.add({
      ...retained,
      system: 'outbox-relay',
      settings: 'defaults; delivered rows retained in messages_archive',
      value: rr.outbox.median,
      unit: 'msg/s',
    });
    ctx.add({
      ...retained,
      system: 'graphile-worker',
      settings: 'best; deletes completed jobs, nothing retained',
      value: rr.graphile.median,
      unit: 'jobs/s',
    });
    ctx.add({
      ...retained,
      system: 'pg-boss',
      settings: `${describePgBoss()}; completed jobs kept`,
      value: rr.pgboss.median,
      unit: 'jobs/s',
    });
  },
});
