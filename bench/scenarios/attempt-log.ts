import { attemptLogCost } from '../attempt-log.js';
import { defineScenario, samplesText } from '../scenario.js';

/**
 * The drain with ATTEMPT_LOG=off, failures (the default) and all, in one run: what logging
 * every delivered attempt in the write-back costs (issue 23: at most 15% slower than off).
 */
export const attemptLogScenario = defineScenario({
  name: 'attempts',
  summary: 'no-op drain with ATTEMPT_LOG=off, failures and all, alternating; each as a ratio of off',
  sizes: {
    small: { messages: 20_000, runs: 3 },
    full: { messages: 100_000, runs: 5 },
  },
  ratio: 'none',
  async run(ctx, size) {
    ctx.log(
      `attempt log: ${size.messages} no-op messages per drain, ${size.runs} runs per mode, alternating`,
    );
    const cost = await attemptLogCost(ctx.url, size.messages, size.runs);
    for (const mode of ['off', 'failures', 'all'] as const) {
      const c = cost[mode];
      ctx.add({
        scenario: `drain with the attempt log, ${size.messages / 1000}k`,
        system: 'outbox-relay',
        settings: `ATTEMPT_LOG=${mode}${mode === 'failures' ? ' (default; none fail here)' : ''}`,
        value: c.perSecond,
        unit: 'msg/s',
        higherIsBetter: true,
        detail: [`relay CPU ${c.cpuUs} µs/msg`, samplesText(c.samples)].filter(Boolean).join(', '),
        ...(mode === 'off' ? {} : { ratio: c.ratioToOff, ratioOf: 'ATTEMPT_LOG=off (goal for all >= 0.87)' }),
      });
    }
  },
});
