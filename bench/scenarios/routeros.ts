import { defineScenario } from '../scenario.js';
import { runBenchScript } from '../support/run-script.js';

/** Commands/s through the RouterOS publisher against 1 and 10 fake routers (bench/routeros.ts). */
export const routerosScenario = defineScenario({
  name: 'routeros',
  summary: 'bench/routeros.ts: address-list.add against 1 and 10 fake routers',
  sizes: { small: { commandsPerRouter: 300 }, full: { commandsPerRouter: 2_000 } },
  ratio: 'none',
  async run(ctx, size) {
    ctx.log(`routeros: bench/routeros.ts ${size.commandsPerRouter}`);
    const out = await runBenchScript('routeros', ctx.url, [String(size.commandsPerRouter)]);
    for (const m of out.matchAll(/(\d+) router\(s\): .* = (\d+) commands\/s; (.*) per command/g)) {
      ctx.add({
        scenario: 'routeros',
        system: 'outbox-relay',
        settings: `${m[1]} fake router(s), ${size.commandsPerRouter} commands each`,
        value: Number(m[2]),
        unit: 'commands/s',
        higherIsBetter: true,
        detail: m[3],
      });
    }
  },
});
