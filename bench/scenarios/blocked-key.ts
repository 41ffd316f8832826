import { blockedKeyScenario } from '../blocked-key.js';
import { defineScenario } from '../scenario.js';

/**
 * Healthy keys next to one blocked key with a long backlog (issue 14 goal 1): the healthy
 * drain with the backlog, as a ratio of the same drain without it, and the claim's time.
 */
export const blockedKeyBenchScenario = defineScenario({
  name: 'blocked',
  summary: '10k messages over 100 keys drained next to 200k queued behind one blocked key, vs without',
  sizes: {
    small: { backlog: 200_000, others: 10_000, keys: 100, timeLimitMs: 30_000, rounds: 3 },
    full: { backlog: 200_000, others: 10_000, keys: 100, timeLimitMs: 120_000, rounds: 5 },
  },
  ratio: 'none',
  async run(ctx, size) {
    ctx.log(
      `blocked key: ${size.others} over ${size.keys} keys, without and with ${size.backlog} behind one key, medians of ${size.rounds} alternating rounds`,
    );
    const f = await blockedKeyScenario({ url: ctx.url, ...size, head: 'failing' });
    const scenario = `blocked key, ${size.backlog / 1000}k behind it`;
    const cut = (finished: boolean) => (finished ? '' : `, stopped after ${size.timeLimitMs / 1000} s`);
    ctx.add({
      scenario,
      system: 'outbox-relay',
      settings: `${size.others / 1000}k over ${size.keys} keys, no backlog`,
      value: f.without.perSecond,
      unit: 'msg/s',
      higherIsBetter: true,
      detail: `claim median ${f.without.claimMedianMs.toFixed(1)} ms, max ${f.without.claimMaxMs.toFixed(1)} ms`,
    });
    ctx.add({
      scenario,
      system: 'outbox-relay',
      settings: `same, next to ${size.backlog / 1000}k behind a head failing with Retry-After 1 h`,
      value: f.with.perSecond,
      unit: 'msg/s',
      higherIsBetter: true,
      detail: `claim median ${f.with.claimMedianMs.toFixed(1)} ms, max ${f.with.claimMaxMs.toFixed(1)} ms${cut(f.with.finished)}`,
      ratio: f.drainRatio,
      ratioOf: 'no backlog (goal >= 0.8)',
    });
    ctx.add({
      scenario: 'blocked key, claim median',
      system: 'outbox-relay',
      settings: `during the drain next to ${size.backlog / 1000}k blocked`,
      value: f.with.claimMedianMs,
      unit: 'ms',
      higherIsBetter: false,
      ratio: f.without.claimMedianMs / f.with.claimMedianMs,
      ratioOf: 'no backlog (goal >= 0.5)',
    });
  },
});
