import { tracingCost } from '../tracing.js';
import { defineScenario } from '../scenario.js';

/**
 * Relay CPU per message with tracing off, and with a provider registered and every message
 * traced, beside the OpenTelemetry SDK's own floor (bench/tracing.ts; issue 23's goal: on
 * within 1.15x of off).
 */
export const tracingScenario = defineScenario({
  name: 'tracing',
  summary: 'bench/tracing.ts: relay CPU per message, tracing off / on / the SDK floor, a process per drain',
  sizes: {
    small: { messages: 20_000, rounds: 3 },
    full: { messages: 50_000, rounds: 5 },
  },
  ratio: 'none',
  async run(ctx, size) {
    ctx.log(
      `tracing: ${size.messages} no-op messages per drain, ${size.rounds} rounds per mode, alternating`,
    );
    const cost = await tracingCost(ctx.url, size.messages, size.rounds);
    const labels = {
      off: 'no tracer provider',
      headers: 'traced fill, untraced drain (carrying the context)',
      sdk: 'floor: the SDK span alone, made by the publisher',
      on: 'every message traced',
    } as const;
    for (const mode of ['off', 'headers', 'sdk', 'on'] as const) {
      ctx.add({
        scenario: `tracing cost, ${size.messages / 1000}k drain`,
        system: 'outbox-relay',
        settings: `${mode}: ${labels[mode]}`,
        value: cost.cpu(mode),
        unit: 'µs CPU/msg',
        higherIsBetter: false,
        detail: `${Math.round(cost.rate(mode))} msg/s`,
        ...(mode === 'off'
          ? {}
          : { ratio: cost.cpu(mode) / cost.cpu('off'), ratioOf: 'tracing off (goal for on <= 1.15)' }),
      });
    }
  },
});
