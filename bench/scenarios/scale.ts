import { defineScenario } from '../scenario.js';
import { claimTime, drainWithProcesses } from '../scale.js';

/** The same backlog drained by 1, 2 and 4 relay processes; the claim's time with few and many rows retained. */
export const scaleScenario = defineScenario({
  name: 'scale',
  summary: 'one backlog drained by 1, 2, 4 relay processes; claim time with 10k and many retained rows',
  sizes: { small: { messages: 20_000, retained: 200_000 }, full: { messages: 100_000, retained: 1_000_000 } },
  ratio: 'none',
  async run(ctx, size) {
    ctx.log(`scale: ${size.messages} messages drained by 1, 2, 4 relay processes`);
    let one: number | undefined;
    for (const n of [1, 2, 4]) {
      const r = await drainWithProcesses(ctx.url, size.messages, n);
      one ??= r.perSecond;
      ctx.add({
        scenario: `scale, ${size.messages / 1000}k drain`,
        system: 'outbox-relay',
        settings: `${n} relay process${n > 1 ? 'es' : ''}`,
        value: r.perSecond,
        unit: 'msg/s',
        higherIsBetter: true,
        detail: `per relay ${r.perRelay.join(' / ')}`,
        ...(n > 1 ? { ratio: r.perSecond / one, ratioOf: '1 relay process' } : {}),
      });
    }
    for (const retained of [10_000, size.retained]) {
      ctx.add({
        scenario: 'claim time (200 rows)',
        system: 'outbox-relay',
        settings: `${retained / 1000}k delivered rows retained`,
        value: await claimTime(ctx.url, retained),
        unit: 'ms',
        higherIsBetter: false,
      });
    }
  },
});
