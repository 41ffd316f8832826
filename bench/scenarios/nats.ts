import { defineScenario } from '../scenario.js';
import { runBenchScript } from '../support/run-script.js';

/**
 * Relay drain to a JetStream stream (bench/nats.ts) next to its floor: the same client
 * publishing the same messages straight to the stream with no database, in the same run.
 */
export const natsScenario = defineScenario({
  name: 'nats',
  summary: 'bench/nats.ts: relay drain to a file-storage JetStream stream vs the raw client floor',
  sizes: { small: { messages: 10_000 }, full: { messages: 50_000 } },
  ratio: 'none',
  async run(ctx, size) {
    ctx.log(`nats: bench/nats.ts ${size.messages}`);
    // At the relay's defaults: no concurrency set, so the relay runs what NatsPublisher asks for.
    const out = await runBenchScript('nats', ctx.url, [String(size.messages)]);
    const relay = /nats relay: (\d+) msg\/s \(\d+ messages, concurrency (\d+)\); publish (.*)/.exec(out);
    const floor = /nats floor: (\d+) msg\/s \((.*)\)/.exec(out);
    const relayRate = relay ? Number(relay[1]) : Number.NaN;
    const floorRate = floor ? Number(floor[1]) : Number.NaN;
    ctx.add({
      scenario: 'nats jetstream',
      system: 'outbox-relay',
      settings: `bench/nats.ts ${size.messages}: relay drain to a file-storage stream, defaults (concurrency ${relay?.[2]})`,
      value: relayRate,
      unit: 'msg/s',
      higherIsBetter: true,
      detail: relay?.[3],
      ratio: relayRate / floorRate,
      ratioOf: 'raw client floor',
    });
    ctx.add({
      scenario: 'nats jetstream',
      system: 'reference',
      settings: 'floor: same client straight to the stream, no database',
      value: floorRate,
      unit: 'msg/s',
      higherIsBetter: true,
      detail: floor?.[2],
    });
  },
});
