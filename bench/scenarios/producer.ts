import { graphileWrite, pgBossWrite } from '../competitors.js';
import { produce, referenceWrites } from '../producer.js';
import { alternate, defineScenario } from '../scenario.js';
import { uniqueName } from '../support/bench-pool.js';

/** Single-message producer transactions against the bare-INSERT floor, with 1 and 8 clients. */
export const producerScenario = defineScenario({
  name: 'producer',
  summary: 'single-message transactions: outbox.add vs bare INSERT (the floor), graphile-worker, pg-boss',
  sizes: { small: { transactions: 3_000 }, full: { transactions: 10_000 } },
  async run(ctx, size) {
    const { url } = ctx;
    const gwSchema = await ctx.graphileSchema();
    const pgb = await ctx.pgBoss();
    const w = await referenceWrites(url);
    const queue = uniqueName('q');
    await pgb.boss.createQueue(queue);
    try {
      for (const clients of [1, 8]) {
        const tx = size.transactions * (clients === 1 ? 1 : 2);
        ctx.log(`producer: ${tx} single-message transactions, ${clients} client(s)`);
        const each = { transactions: tx / 4, clients };
        const r = await alternate(4, {
          bare: () => produce(url, { ...each, write: w.bare }),
          outbox: () => produce(url, { ...each, write: w.outbox }),
          graphile: () => produce(url, { ...each, write: graphileWrite(gwSchema) }),
          pgboss: () => produce(url, { ...each, write: pgBossWrite(pgb.boss, queue) }),
          notify: () => produce(url, { ...each, write: w.bareNotify }),
        });
        const common = {
          scenario: `producer, ${clients} client${clients > 1 ? 's' : ''}`,
          unit: 'tx/s',
          higherIsBetter: true,
        } as const;
        const ofFloor = (v: number) => `${Math.round((100 * v) / r.bare.median)}% of the bare-INSERT floor`;
        ctx.add({
          ...common,
          system: 'reference',
          settings: 'bare INSERT into a plain table (the floor)',
          value: r.bare.median,
        });
        ctx.add({
          ...common,
          system: 'reference',
          settings: 'bare INSERT + pg_notify',
          value: r.notify.median,
          detail: ofFloor(r.notify.median),
        });
        ctx.add({
          ...common,
          system: 'outbox-relay',
          settings: 'outbox.add (pg client, no NOTIFY)',
          value: r.outbox.median,
          detail: ofFloor(r.outbox.median),
        });
        ctx.add({
          ...common,
          system: 'graphile-worker',
          settings: 'add_job() in the transaction (NOTIFY)',
          value: r.graphile.median,
          detail: ofFloor(r.graphile.median),
        });
        ctx.add({
          ...common,
          system: 'pg-boss',
          settings: 'send() through the transaction client',
          value: r.pgboss.median,
          detail: ofFloor(r.pgboss.median),
        });
      }
    } finally {
      await pgb.boss.deleteQueue(queue).catch(() => undefined);
      await w.cleanup();
    }
  },
});
