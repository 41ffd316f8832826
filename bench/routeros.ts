/**
 * RouterOS publisher throughput: commands/s against one fake router and against 10 in
 * parallel, and the p99 latency of one command (an idempotent action = print + write). Beside
 * it, the floor (#26): node-routeros alone sending the same two sentences per command (the
 * print that finds no entry, then the add) over one connection per router, and the publisher's
 * rate as a ratio of it.
 * Run: npx tsx bench/routeros.ts [commandsPerRouter]
 */
import { randomUUID } from 'node:crypto';
import { RouterOSAPI } from 'node-routeros';
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

const startRouters = (n: number): Promise<FakeRouter[]> =>
  Promise.all(Array.from({ length: n }, () => startFakeRouter()));

/** node-routeros alone: per command the address-list.add action's print and add, back to back per router. */
async function floor(routerCount: number): Promise<number> {
  const routers = await startRouters(routerCount);
  const connections = await Promise.all(
    routers.map(async (r) => {
      const api = new RouterOSAPI({
        host: r.host,
        port: r.port,
        user: 'admin',
        password: 'admin',
        keepalive: false,
      });
      const connecting = api.connect();
      // Nagle off, as the publisher sets it: node-routeros writes word by word, and with Nagle
      // every command would wait ~40 ms for the router's delayed ACK.
      (
        api as unknown as { connector?: { socket?: { setNoDelay(on: boolean): void } } }
      ).connector?.socket?.setNoDelay(true);
      await connecting;
      return api;
    }),
  );
  const started = performance.now();
  await Promise.all(
    connections.map(async (api) => {
      for (let i = 0; i < PER_ROUTER; i++) {
        const { list, address } = command('floor', i).payload as { list: string; address: string };
        const [existing] = await api.write('/ip/firewall/address-list/print', [
          `?list=${list}`,
          `?address=${address}`,
          '=.proplist=.id',
        ]);
        if (existing) throw new Error('floor: the fake router already held the entry');
        await api.write('/ip/firewall/address-list/add', [`=list=${list}`, `=address=${address}`]);
      }
    }),
  );
  const perSecond = (routerCount * PER_ROUTER) / ((performance.now() - started) / 1000);
  for (const api of connections) await api.close();
  for (const r of routers) await r.close();
  return perSecond;
}

async function run(routerCount: number): Promise<void> {
  const floorRate = await floor(routerCount);
  const routers = await startRouters(routerCount);
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
  console.log(
    `${routerCount} router(s) floor: ${Math.round(floorRate)} commands/s (node-routeros alone, the same print + add); publisher/floor ${(total / seconds / floorRate).toFixed(2)}`,
  );
  await publisher.close();
  for (const r of routers) await r.close();
}

console.log(
  `RouterOS publisher, address-list.add (print + add), ${PER_ROUTER} commands per router, Node ${process.version}`,
);
await run(1);
await run(10);
