import { defineScenario } from '../scenario.js';
import { runBenchScript } from '../support/run-script.js';

/** Deliveries/s through the webhook publisher to a local keep-alive receiver, beside undici alone doing the same (bench/webhook.ts). */
export const webhookScenario = defineScenario({
  name: 'webhook',
  summary: 'bench/webhook.ts: signed deliveries to a local keep-alive receiver',
  sizes: { small: { messages: 10_000 }, full: { messages: 50_000 } },
  ratio: 'none',
  async run(ctx, size) {
    ctx.log(`webhook: bench/webhook.ts ${size.messages}`);
    const out = await runBenchScript('webhook', ctx.url, [String(size.messages)]);
    const m = /throughput: (\d+) deliveries\/s/.exec(out);
    const lat = /one delivery under load: (.*)/.exec(out);
    const floor = /floor: (\d+) posts\/s \(([^)]*)\)/.exec(out);
    const alone = /publisher alone: (\d+) posts\/s/.exec(out);
    const rate = m ? Number(m[1]) : Number.NaN;
    const floorRate = floor ? Number(floor[1]) : Number.NaN;
    ctx.add({
      scenario: 'webhook',
      system: 'reference',
      settings: `floor: the same signed bodies to the same receiver, ${floor?.[2] ?? '?'}`,
      value: floorRate,
      unit: 'deliveries/s',
      higherIsBetter: true,
    });
    ctx.add({
      scenario: 'webhook',
      system: 'reference',
      settings: 'the webhook publisher alone: no relay, no database, as many in flight',
      value: alone ? Number(alone[1]) : Number.NaN,
      unit: 'deliveries/s',
      higherIsBetter: true,
      ratio: alone ? +(Number(alone[1]) / floorRate).toFixed(3) : Number.NaN,
      ratioOf: 'the undici floor',
    });
    ctx.add({
      scenario: 'webhook',
      system: 'outbox-relay',
      settings: `bench/webhook.ts ${size.messages}: keep-alive receiver, default settings`,
      value: rate,
      unit: 'deliveries/s',
      higherIsBetter: true,
      detail: lat?.[1],
      ratio: +(rate / floorRate).toFixed(3),
      ratioOf: 'the undici floor (goal >= 0.8)',
    });
  },
});
