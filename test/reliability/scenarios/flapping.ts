import { NOOP_LOGGER } from '../../../src/core/foundation/logger.js';
import { createRelay } from '../../../src/core/relay/relay.js';
import { WebhookPublisher } from '../../../src/publishers/webhook/index.js';
import { type ReceiverReply, reply, startWebhookReceiver } from '../../support/webhook-receiver.js';
import {
  Deliveries,
  Ledger,
  runProducers,
  type ScenarioDatabase,
  seededRandom,
  type Verdict,
  verify,
  waitForDrained,
} from '../harness.js';

const SECRET = `whsec_${Buffer.from('flapping-receiver-secret-of-32-bytes').toString('base64')}`;

/** Sizes of the flapping-receiver scenario. */
export interface FlappingSizes {
  readonly producers: number;
  readonly messagesPerProducer: number;
  /** Share of requests that fail. */
  readonly failureRatio: number;
}

/**
 * A real webhook receiver that fails at random — 500, no answer, TCP reset, a body slower
 * than the deadline, 429 with Retry-After — while producers write. Every message must arrive,
 * and the relay's heap must stay bounded.
 */
export async function flappingScenario(
  t: ScenarioDatabase,
  sizes: FlappingSizes,
): Promise<Verdict & { failures: Record<string, number>; heapGrowthMb: number }> {
  const startedAt = Date.now();
  const random = seededRandom(21);
  const modes: ReceiverReply[] = [
    reply.status(500, 'boom'),
    reply.timeout(),
    reply.reset(),
    reply.slowBody(40, 50),
    reply.tooManyRequests('1'),
  ];
  const failures: Record<string, number> = {};
  const receiver = await startWebhookReceiver({
    secrets: [SECRET],
    respond: () => {
      if (random() >= sizes.failureRatio) return reply.ok();
      const mode = modes[Math.floor(random() * modes.length)]!;
      const name = mode.kind === 'status' ? String(mode.status) : mode.kind;
      failures[name] = (failures[name] ?? 0) + 1;
      return mode;
    },
  });
  const relay = createRelay({
    db: t.db,
    schema: t.schema,
    logger: NOOP_LOGGER,
    pollIntervalMs: 10,
    batchSize: 50,
    concurrency: 16,
    leaseMs: 10_000,
    retry: { baseDelayMs: 20, maxDelayMs: 300, jitter: 0.2 },
    publishers: {
      default: new WebhookPublisher({
        url: receiver.url,
        secrets: SECRET,
        allowPrivateNetworks: true,
        timeoutMs: 400,
        maxRetryAfterMs: 1000,
      }),
    },
  });
  const baseline = process.memoryUsage().heapUsed;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }, 50);
  relay.start();
  try {
    const ledger = new Ledger();
    await runProducers(t, ledger, {
      producers: sizes.producers,
      messagesPerProducer: sizes.messagesPerProducer,
      rollbackRatio: 0.1,
      seed: 9,
    });
    await waitForDrained(
      t,
      'every message through the flapping receiver',
      60_000 + 25 * ledger.committed.size,
    );
    const deliveries = new Deliveries();
    for (const r of receiver.requests) {
      // A slow body after a 200 status line is an acceptance: the receiver said 200 first.
      const accepted = (r.reply.kind === 'status' || r.reply.kind === 'slow-body') && r.reply.status < 300;
      if (r.id && accepted) deliveries.record(r.id);
    }
    const verdict = await verify(t, ledger, deliveries, { scenario: '4 flapping receiver', startedAt });
    if (receiver.requests.some((r) => r.verified === false))
      verdict.problems.push('a request arrived with a bad signature');
    return { ...verdict, failures, heapGrowthMb: (peak - baseline) / 1024 / 1024 };
  } finally {
    clearInterval(sampler);
    await relay.stop({ timeoutMs: 2000 });
    await receiver.close();
  }
}
