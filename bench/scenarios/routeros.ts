import { defineScenario } from '../scenario.js';
import { runBenchScript } from '../support/run-script.js';

/** Commands/s through the RouterOS publisher against 1 and 10 fake routers, beside node-routeros alone (bench/routeros.ts). */
export const routerosScenario = defineScenario({
  name: 'routeros',
  summary: 'bench/routeros.ts: address-list.add against 1 and 10 fake routers',
  sizes: { small: { commandsPerRouter: 300 }, full: { commandsPerRouter: 2_000 } },
  ratio: 'none',
  async run(ctx, size) {
    ctx.log(`routeros: bench/routeros.ts ${size.commandsPerRouter}`);
    const out = await runBenchScript('routeros', ctx.url, [String(size.commandsPerRouter)]);
    for (const m of out.matchAll(/(\d+) router\(s\): .* = (\d+) commands\/s; (.*) per command/g)) {
      const floor = new RegExp(`${m[1]} router\\(s\\) floor: (\\d+) commands/s`).exec(out);
      const floorRate = floor ? Number(floor[1]) : Number.NaN;
      ctx.add({
        scenario: 'routeros',
        system: 'outbox-relay',
        settings: `${m[1]} fake router(s), ${size.commandsPerRouter} commands each`,
        value: Number(m[2]),
        unit: 'commands/s',
        higherIsBetter: true,
        detail: m[3],
        ratio: Number(m[2]) / floorRate,
        ratioOf: 'node-routeros floor',
      });
      ctx.add({
        scenario: 'routeros',
        system: 'reference',
        settings: `floor: node-routeros alone, the same print + add, ${m[1]} fake router(s)`,
        value: floorRate,
        unit: 'commands/s',
        higherIsBetter: true,
      });
    }
  },
});
