// A receiver outage with the circuit breaker on and off (issue 22 item 1): N unkeyed messages
// to one webhook endpoint on a real local HTTP server that answers 503 for T, then 200. The
// retry policy is time-scaled (base 200 ms, cap 20 s: the default 1 s / 1 h shrunk to bench
// length), and so is the breaker's probe: 1 s doubling to 2 s (the default 5 s / 5 min).
// Reports requests per message during the outage, dead letters, and the time from recovery to
// the last delivery. Target with the breaker: <= 0.05 requests per message, 0 dead, drained
// within one probe interval plus the drain time.
// Run alone: DATABASE_URL=... npx tsx bench/outage.ts [messages=2000] [outageMs=20000]
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { NOOP_LOGGER } from '../src/core/foundation/logger.js';
import { migrate } from '../src/core/migrations/migrate.js';
import { createOutbox } from '../src/core/producer/outbox.js';
import { createRelay } from '../src/core/relay/relay.js';
import { WebhookPublisher } from '../src/publishers/webhook/webhook-publisher.js';
import { benchPool, uniqueName } from './support/bench-pool.js';
import { isMain } from './support/is-main.js';

/** The time-scaled settings of the run (stated in the table). */
export const OUTAGE_SETTINGS = {
  retry: { baseDelayMs: 200, maxDelayMs: 20_000 },
  breaker: { probeMs: 1_000, probeMaxMs: 2_000 },
} as const;

/** What one outage run measured. */
export interface OutageRun {
  breaker: boolean;
  messages: number;
  outageMs: number;
  requestsDuringOutage: number;
  requestsPerMessage: number;
  dead: number;
  /** From the receiver's recovery to the last message delivered. */
  drainedAfterMs: number;
}

/** Runs one outage of `outageMs` over `messages` messages, with the breaker on or off. */
export async function outageRun(
  url: string,
  messages: number,
  outageMs: number,
  breaker: boolean,
): Promise<OutageRun> {
  const pool = benchPool(url, 8);
  const schema = uniqueName('bench_outage');
  let down = true;
  let requests = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (down) requests++;
      res.writeHead(down ? 503 : 200).end(down ? 'down' : '');
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  const webhook = new WebhookPublisher({
    url: `http://127.0.0.1:${port}/hooks`,
    secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    allowPrivateNetworks: true,
  });
  const relay = createRelay({
    db: pool,
    schema,
    publishers: { webhook },
    logger: NOOP_LOGGER,
    retry: OUTAGE_SETTINGS.retry,
    breaker: { enabled: breaker, ...OUTAGE_SETTINGS.breaker },
  });
  try {
    await migrate(pool, { schema });
    const outbox = createOutbox({ schema });
    await outbox.addMany(
      pool,
      Array.from({ length: messages }, (_, i) => ({
        type: 'bench.outage',
        destination: 'webhook',
        payload: { i },
      })),
    );
    relay.start();
    await new Promise((r) => setTimeout(r, outageMs));
    down = false;
    const back = performance.now();
    const count = async (status: string) =>
      (
        await pool.query<{ n: number }>(
          `select count(*)::int as n from "${schema}".all_messages where status = $1`,
          [status],
        )
      ).rows[0]!.n;
    const deadline = back + 120_000;
    while ((await count('delivered')) + (await count('dead')) < messages && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const drainedAfterMs = Math.round(performance.now() - back);
    return {
      breaker,
      messages,
      outageMs,
      requestsDuringOutage: requests,
      requestsPerMessage: +(requests / messages).toFixed(3),
      dead: await count('dead'),
      drainedAfterMs,
    };
  } finally {
    await relay.stop();
    await webhook.close();
    server.closeAllConnections();
    await new Promise<void>((ok) => server.close(() => ok()));
    await pool.query(`drop schema if exists "${schema}" cascade`).catch(() => undefined);
    await pool.end();
  }
}

if (isMain(import.meta.url)) {
  const { startBenchPostgres } = await import('./support/bench-postgres.js');
  const pg = await startBenchPostgres();
  try {
    const messages = Number(process.argv[2] ?? 2_000);
    const outageMs = Number(process.argv[3] ?? 20_000);
    for (const breaker of [true, false])
      console.log(JSON.stringify(await outageRun(pg.url, messages, outageMs, breaker)));
  } finally {
    await pg.stop();
  }
}
