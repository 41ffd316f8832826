/**
 * Tracing cost: relay CPU per message (process.cpuUsage over a drain with a no-op publisher)
 * with no tracer provider registered, and with one registered and every message traced (a
 * `create` span at add, a `send` span per attempt, exported in batches to an exporter that drops
 * them). Each round runs in a fresh process (a provider is process-wide), modes alternating;
 * prints the medians and their ratio.
 * Run: npx tsx bench/tracing.ts [messages=50000] [rounds=3]
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { cpuDrain } from './cpu-drain.js';
import { startBenchPostgres } from './support/bench-postgres.js';
import { isMain } from './support/is-main.js';
import { median } from './support/stats.js';

type Mode = 'off' | 'on';

/** Spans go nowhere: the cost measured is making them, not shipping them. */
const DROP: SpanExporter = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} };

/** One drain in this process; returns messages/s and relay CPU µs per message. */
async function round(
  url: string,
  mode: Mode,
  messages: number,
): Promise<{ perSecond: number; cpuUs: number }> {
  if (mode === 'on') {
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(DROP, { maxQueueSize: 65_536 })] }),
    );
  }
  return cpuDrain(url, messages);
}

if (isMain(import.meta.url)) {
  const [first, ...rest] = process.argv.slice(2);
  if (first === 'round') {
    const [mode, messages] = rest as [Mode, string];
    console.log(JSON.stringify(await round(process.env.DATABASE_URL!, mode, Number(messages))));
    process.exit(0);
  }
  const messages = Number(first ?? 50_000);
  const rounds = Number(rest[0] ?? 3);
  const server = await startBenchPostgres();
  const results: Record<Mode, Array<{ perSecond: number; cpuUs: number }>> = { off: [], on: [] };
  try {
    for (let i = 0; i < rounds; i++) {
      for (const mode of i % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
        const { stdout } = await promisify(execFile)(
          process.execPath,
          ['--import', 'tsx', fileURLToPath(import.meta.url), 'round', mode, String(messages)],
          { env: { ...process.env, DATABASE_URL: server.url }, maxBuffer: 1 << 20 },
        );
        results[mode].push(JSON.parse(stdout.trim().split('\n').pop()!));
      }
    }
  } finally {
    await server.stop();
  }
  const cpu = (m: Mode) => median(results[m].map((r) => r.cpuUs));
  const rate = (m: Mode) => median(results[m].map((r) => r.perSecond));
  console.log(
    `tracing cost: ${messages} messages, ${rounds} rounds per mode (medians, Node ${process.version})`,
  );
  for (const m of ['off', 'on'] as const)
    console.log(
      `  tracing ${m.padEnd(3)}: ${Math.round(rate(m))} msg/s, relay CPU ${cpu(m).toFixed(1)} µs/message`,
    );
  console.log(`  CPU on/off: ${(cpu('on') / cpu('off')).toFixed(2)}x`);
}
