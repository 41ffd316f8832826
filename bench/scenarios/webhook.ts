import { defineScenario } from '../scenario.js';
import { runBenchScript } from '../support/run-script.js';

/** Deliveries/s through the webhook publisher to a local keep-alive receiver (bench/webhook.ts). */
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
    ctx.add({
      scenario: 'webhook',
      system: 'outbox-relay',
      settings: `bench/webhook.ts ${size.messages}: keep-alive receiver, concurrency 32`,
      value: m ? Number(m[1]) : Number.NaN,
      unit: 'deliveries/s',
      higherIsBetter: true,
      detail: lat?.[1],
    });
  },
});
