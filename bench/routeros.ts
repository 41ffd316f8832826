/**
 * RouterOS publisher throughput: commands/s against one fake router and against 10 in
 * parallel, and the p99 latency of one command (an idempotent action = print + write).
 * Run: npx tsx bench/routeros.ts [commandsPerRouter]
 */
import { randomUUID } from 'node:crypto';
import { NOOP_LOGGER } from '../src/core/foundation/logger.js';
import type { OutboxMessage } from '../src/core/foundation/message.js';
import type { PublishContext } from '../src/core/foundation/publisher.js';
import { RouterOsPublisher } from '../src/publishers/routeros/routeros-publisher.js';
import { type FakeRouter, startFakeRouter } from '../src/testing/fake-router/index.js';
import { percentile } from './support/stats.js';

const PER_ROUTER = Number(process.argv[2] ?? 2000);
const CONTEXT: PublishContext = { signal: new AbortController().signal, attempt: 1, logger: NOOP_LOGGER };

function command(device: string, i: number): OutboxMessage {
  const payload = { list: 'bench', address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` };
  return {
    id: String(i),
    messageId: randomUUID(),
    kind: 'command',
    type: 'address-list.add',
    destination: `routeros:${device}`,
    tenantId: null,
    orderingKey: device,
    payload,
    body: JSON.stringify(payload),
    headers: {},
    attempts: 1,
    maxAttempts: 1,
    createdAt: new Date(),
  };
}

async function run(routerCount: number): Promise<void> {
  const routers: FakeRouter[] = await Promise.all(
    Array.from({ length: routerCount }, () => startFakeRouter()),
  );
  const publisher = new RouterOsPublisher({
    devices: routers.map((r, i) => ({
      name: `r${i}`,
      host: r.host,
      port: r.port,
      username: 'admin',
      password: 'admin',
    })),
    connectTimeoutMs: 5_000,
    commandTimeoutMs: 5_000,
  });
  const latencies: number[] = [];
  const started = performance.now();
  // Each device's commands run back to back, as the relay's per-device ordering does.
  await Promise.all(
    routers.map(async (_, d) => {
      for (let i = 0; i < PER_ROUTER; i++) {
        const t0 = performance.now();
        await publisher.publish(command(`r${d}`, i), CONTEXT);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const total = routerCount * PER_ROUTER;
  console.log(
    `${routerCount} router(s): ${total} commands in ${seconds.toFixed(2)} s = ${Math.round(total / seconds)} commands/s; ` +
      `p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms per command`,
  );
  await publisher.close();
  for (const r of routers) await r.close();
}

console.log(
  `RouterOS publisher, address-list.add (print + add), ${PER_ROUTER} commands per router, Node ${process.version}`,
);
await run(1);
await run(10);
