import { OUTAGE_SETTINGS, outageRun } from '../outage.js';
import { defineScenario } from '../scenario.js';

/**
 * A receiver outage with the circuit breaker on and off, in one run (issue 22 item 1): requests
 * per message during the outage, dead letters, and the time from recovery to drained.
 */
export const outageScenario = defineScenario({
  name: 'outage',
  summary:
    'webhook receiver answering 503 for T then 200: requests per message during the outage, breaker on vs off',
  sizes: {
    small: { messages: 2_000, outageMs: 20_000 },
    full: { messages: 2_000, outageMs: 60_000 },
  },
  ratio: 'none',
  async run(ctx, size) {
    const { retry, breaker } = OUTAGE_SETTINGS;
    ctx.log(
      `outage: ${size.messages} messages, receiver down ${size.outageMs / 1000} s; retry ${retry.baseDelayMs} ms doubling to ${retry.maxDelayMs / 1000} s, probe ${breaker.probeMs / 1000} s doubling to ${breaker.probeMaxMs / 1000} s`,
    );
    for (const on of [true, false]) {
      const r = await outageRun(ctx.url, size.messages, size.outageMs, on);
      const label = `outage ${size.outageMs / 1000} s, ${size.messages} msgs`;
      const settings = on
        ? `BREAKER_ENABLED=true (probe ${breaker.probeMs / 1000}-${breaker.probeMaxMs / 1000} s)`
        : 'BREAKER_ENABLED=false';
      ctx.add({
        scenario: `${label}: requests per message while down`,
        system: 'outbox-relay',
        settings,
        value: r.requestsPerMessage,
        unit: 'req/msg',
        higherIsBetter: false,
        detail: `${r.requestsDuringOutage} requests, ${r.dead} dead${on ? ' (goal <= 0.05, 0 dead)' : ''}`,
      });
      ctx.add({
        scenario: `${label}: recovery to drained`,
        system: 'outbox-relay',
        settings,
        value: r.drainedAfterMs / 1000,
        unit: 's',
        higherIsBetter: false,
        detail: `${r.dead} dead`,
      });
    }
  },
});
