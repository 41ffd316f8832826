import { limitAccuracy, unlimitedDrainCost } from '../limits.js';
import { defineScenario, samplesText } from '../scenario.js';

/**
 * Rate limits (issue #22 item 2): the rate 1 and 3 relays deliver under one limit, as a ratio of
 * the limit (goal 0.9-1.1), and a destination without a limit drained with no limit in the table
 * and beside another destination's limit and throttled backlog (goal: within 5%), with the one-time
 * cost of throttling that backlog beside it.
 */
export const limitsScenario = defineScenario({
  name: 'limits',
  summary:
    'rate 1 and 3 relays deliver under one 200/s limit; an unlimited drain beside no limit / another limit',
  sizes: {
    small: { rate: 200, burst: 10, seconds: 5, messages: 50_000, runs: 5 },
    full: { rate: 200, burst: 10, seconds: 20, messages: 100_000, runs: 5 },
  },
  ratio: 'none',
  async run(ctx, size) {
    ctx.log(
      `limits: ${size.rate}/s burst ${size.burst} for ${size.seconds} s with 1 and 3 relays; drains of ${size.messages}`,
    );
    for (const relays of [1, 3]) {
      const a = await limitAccuracy(ctx.url, {
        relays,
        rate: size.rate,
        burst: size.burst,
        seconds: size.seconds,
      });
      ctx.add({
        scenario: `rate limit ${size.rate}/s, ${size.seconds} s`,
        system: 'outbox-relay',
        settings: `${relays} relay${relays > 1 ? 's' : ''} sharing the limit`,
        value: a.achieved,
        unit: 'msg/s',
        higherIsBetter: true,
        detail: `${a.delivered} delivered`,
        ratio: +(a.achieved / size.rate).toFixed(3),
        ratioOf: 'the limit (goal 0.9-1.1)',
      });
    }
    const c = await unlimitedDrainCost(ctx.url, size.messages, size.runs);
    const scenario = `drain without a limit, ${size.messages / 1000}k`;
    ctx.add({
      scenario,
      system: 'outbox-relay',
      settings: 'no limit in the table',
      value: c.none.median,
      unit: 'msg/s',
      higherIsBetter: true,
      ...(samplesText(c.none.samples) ? { detail: samplesText(c.none.samples)! } : {}),
    });
    ctx.add({
      scenario,
      system: 'outbox-relay',
      settings: 'beside a 1/s limit on another destination with 2k throttled',
      value: c.other.median,
      unit: 'msg/s',
      higherIsBetter: true,
      detail: [samplesText(c.other.samples), `the hold pass throttled the 2k in ${c.holdMs} ms (once)`]
        .filter(Boolean)
        .join('; '),
      ratio: c.ratio,
      ratioOf: 'no limit (goal >= 0.95)',
    });
  },
});
