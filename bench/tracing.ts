/**
 * Tracing cost: relay CPU per message (process.cpuUsage over a drain with a no-op publisher)
 * with no tracer provider registered (`off`), and with one registered and every message traced
 * (`on`: a `create` span at add, a `send` span per attempt, exported in batches to an exporter
 * that drops them). `sdk` is the floor: the same fill with the provider registered, then the
 * relay drains untraced while its publisher starts and ends one span per message straight on the
 * SDK (same attributes, the stored parent extracted by the SDK's W3C propagator), so `sdk - off`
 * is what the SDK alone costs and `on - sdk` is ours. `headers` is the same fill drained
 * untraced: what carrying the producer's trace context costs. The provider has the SDK's defaults a user would get, but for the exporter.
 * Each round runs in a fresh process (a provider is process-wide), modes alternating; prints the
 * medians and their ratios.
 * Run: npx tsx bench/tracing.ts [messages=50000] [rounds=3]
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { defaultTextMapGetter, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { cpuDrain } from './cpu-drain.js';
import { startBenchPostgres } from './support/bench-postgres.js';
import { isMain } from './support/is-main.js';
import { median } from './support/stats.js';

type Mode = 'off' | 'headers' | 'sdk' | 'on';
const MODES: readonly Mode[] = ['off', 'headers', 'sdk', 'on'];

/** Spans go nowhere: the cost measured is making them, not shipping them. */
const DROP: SpanExporter = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} };

/**
 * A full collection before the clock starts (the round runs with --expose-gc): the fill's own
 * garbage, its `create` spans above all, is the producer's cost, and without this the relay's
 * drain paid for collecting it.
 */
function collectFill(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** One drain in this process; returns messages/s and relay CPU µs per message. */
async function round(
  url: string,
  mode: Mode,
  messages: number,
): Promise<{ perSecond: number; cpuUs: number }> {
  if (mode === 'off') return cpuDrain(url, messages, { beforeDrain: collectFill });
  const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(DROP)] });
  trace.setGlobalTracerProvider(provider);
  if (mode === 'on') return cpuDrain(url, messages, { beforeDrain: collectFill });
  const untraced = (): void => {
    trace.disable(); // the relay sees no provider: it traces nothing itself
    collectFill();
  };
  // What carrying the producer's trace context costs the relay without any span of its own.
  if (mode === 'headers') return cpuDrain(url, messages, { beforeDrain: untraced });
  // The floor: what the relay's span would cost written with the SDK's own parts, the stored
  // parent read by its W3C propagator and the same attributes.
  const tracer = provider.getTracer('outbox-relay');
  const propagator = new W3CTraceContextPropagator();
  return cpuDrain(url, messages, {
    beforeDrain: untraced,
    publisher: {
      name: 'noop',
      async publish(message, context) {
        const attributes = {
          'messaging.system': 'noop',
          'messaging.operation.type': 'send',
          'messaging.operation.name': 'send',
          'messaging.destination.name': message.destination,
          'messaging.message.id': message.messageId,
          'outbox_relay.attempt': context.attempt,
        };
        const parent = propagator.extract(ROOT_CONTEXT, message.headers, defaultTextMapGetter);
        tracer
          .startSpan(`send ${message.destination}`, { kind: SpanKind.PRODUCER, attributes }, parent)
          .end();
      },
    },
  });
}

/** Every round's figures per mode, and their medians. */
export interface TracingCost {
  results: Record<Mode, Array<{ perSecond: number; cpuUs: number }>>;
  /** Median relay CPU µs per message of a mode. */
  cpu(mode: Mode): number;
  /** Median msg/s of a mode. */
  rate(mode: Mode): number;
}

/**
 * Runs `rounds` rounds of every mode against `url`, each drain in a fresh process, the order
 * reversed every other round.
 *
 * @example
 * const cost = await tracingCost(url, 50_000, 3); cost.cpu('on') / cost.cpu('off')
 */
export async function tracingCost(url: string, messages: number, rounds: number): Promise<TracingCost> {
  const results: Record<Mode, Array<{ perSecond: number; cpuUs: number }>> = {
    off: [],
    headers: [],
    sdk: [],
    on: [],
  };
  for (let i = 0; i < rounds; i++) {
    for (const mode of i % 2 === 0 ? MODES : [...MODES].reverse()) {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), 'round', mode, String(messages)],
        { env: { ...process.env, DATABASE_URL: url }, maxBuffer: 1 << 20 },
      );
      results[mode].push(JSON.parse(stdout.trim().split('\n').pop()!));
    }
  }
  return {
    results,
    cpu: (m) => median(results[m].map((r) => r.cpuUs)),
    rate: (m) => median(results[m].map((r) => r.perSecond)),
  };
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
  let cost: TracingCost;
  try {
    cost = await tracingCost(server.url, messages, rounds);
  } finally {
    await server.stop();
  }
  const { results } = cost;
  const { cpu, rate } = cost;
  console.log(
    `tracing cost: ${messages} messages, ${rounds} rounds per mode (medians, Node ${process.version})`,
  );
  for (const m of MODES)
    console.log(
      `  tracing ${m.padEnd(7)}: ${Math.round(rate(m))} msg/s, relay CPU ${cpu(m).toFixed(1)} µs/message`,
    );
  console.log(
    `  CPU on/off: ${(cpu('on') / cpu('off')).toFixed(2)}x, SDK floor sdk/off: ${(cpu('sdk') / cpu('off')).toFixed(2)}x`,
  );
  const ratios = (m: Mode) =>
    results[m].map((r, i) => (r.cpuUs / results.off[i]!.cpuUs).toFixed(2)).join(' ');
  console.log(
    `  per round on/off: ${ratios('on')}; sdk/off: ${ratios('sdk')}; headers/off: ${ratios('headers')}`,
  );
}
