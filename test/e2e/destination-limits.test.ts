// Issue 22 item 2 with real processes: three `outbox-relay start` processes share one table and
// one limit (DESTINATION_LIMITS at start, then `destinations unset` and the admin route at run
// time); the receiver (node:http) measures the rate and the requests it holds at once. Before
// migration 10 nothing limited a destination: three relays sent as fast as the receiver took it
// (and DESTINATION_LIMITS was an unknown variable). Bad DESTINATION_LIMITS: config-errors.test.ts.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type CountingReceiver, startCountingReceiver } from '../support/counting-receiver.js';
import { waitFor } from '../support/recording-publisher.js';
import { freshDatabases, runCli } from './cli-process.js';
import { FLEET_ADMIN_TOKEN, webhookFleet } from './webhook-fleet.js';

const fresh = freshDatabases();
let receiver: CountingReceiver;
let fleet: ReturnType<typeof webhookFleet>;
const RATE = 50;

beforeAll(async () => {
  receiver = await startCountingReceiver();
});
afterAll(async () => {
  await fleet?.stop();
  await receiver.close();
});

const hooks = () => receiver.requests.filter((r) => r.path === '/hooks');

it(`three relay processes hold DESTINATION_LIMITS' ${RATE}/s together; unset and the admin route's cap of 4 apply at run time`, async () => {
  const db = await fresh();
  fleet = webhookFleet(db, receiver.url);
  Object.assign(fleet.env, { DESTINATION_LIMITS: JSON.stringify({ 'webhook:*': { rate: RATE, burst: 5 } }) });
  const bases = (await Promise.all([fleet.start(), fleet.start(), fleet.start()])).map((p) => p.base);
  await fleet.add(500);

  // The rate, as the receiver sees it over 5 s once the first burst is out.
  await waitFor(() => hooks().length >= 20, 'the first 20', 10_000);
  const from = hooks()[19]!.at;
  await new Promise((r) => setTimeout(r, 5_000));
  const window = hooks().filter((r) => r.at > from);
  const rate = window.length / ((window.at(-1)!.at - from) / 1000);
  console.log(
    `| 3 relay processes, limit ${RATE}/s burst 5 | ${rate.toFixed(1)}/s at the receiver over 5 s |`,
  );
  expect(rate).toBeGreaterThanOrEqual(RATE * 0.9);
  expect(rate).toBeLessThanOrEqual(RATE * 1.1);

  // What waits shows as throttled on /metrics and on the status page's destinations.
  const metrics = await (await fetch(`${bases[0]}/metrics`)).text();
  const waiting = Number(
    /^outbox_destination_throttled_messages\{destination="webhook:\*"\} (\d+)$/m.exec(metrics)?.[1],
  );
  expect(waiting).toBeGreaterThan(100);
  const page = (await (
    await fetch(`${bases[1]}/api/destinations`, { headers: { authorization: `Bearer ${FLEET_ADMIN_TOKEN}` } })
  ).json()) as {
    destinations: Array<{ destination: string; state: string; limit: { text: string } | null }>;
  };
  expect(page.destinations.find((d) => d.destination === 'webhook')).toMatchObject({
    state: 'throttled',
    limit: { text: `${RATE}/s burst 5` },
  });

  // `destinations set` and `list` (a tenant nobody writes for), and `destinations unset`: the
  // rest goes out at once, every message once, at its first attempt.
  const [set, unset] = await Promise.all([
    runCli(['destinations', 'set', 'tenant:acme', '--rate', '10', '--max-in-flight', '2'], fleet.env),
    runCli(['destinations', 'unset', 'webhook:*'], fleet.env),
  ]);
  expect(set.code, set.stderr).toBe(0);
  expect(set.stdout).toBe('limited tenant:acme to 10/s (burst 10), at most 2 in flight for every relay\n');
  // Read while the cap phase below runs: one CLI start less on the test's clock.
  const list = runCli(['destinations', 'list', '--json'], fleet.env);
  expect(unset.code, unset.stderr).toBe(0);
  expect(unset.stdout).toMatch(/^cleared the limit of webhook:\*; \d+ throttled messages are due now/);
  await waitFor(async () => (await fleet.delivered()) === 500, 'all 500 once the limit is gone', 15_000);
  expect(new Set(hooks().map((r) => r.id)).size).toBe(500);

  // A cap of 4 set through the admin route, a receiver that takes 200 ms per request.
  const res = await fetch(`${bases[2]}/api/admin/destinations/limit`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${FLEET_ADMIN_TOKEN}` },
    body: JSON.stringify({ pattern: 'webhook', maxInFlight: 4 }),
  });
  expect(res.status).toBe(200);
  receiver.setDelay(200);
  receiver.resetMax();
  await fleet.add(60);
  await waitFor(async () => (await fleet.delivered()) === 560, 'the 60 under the cap', 15_000);
  console.log(`| 3 relay processes, cap 4, receiver 200 ms | at most ${receiver.maxInFlight()} in flight |`);
  expect(receiver.maxInFlight()).toBe(4);

  expect(JSON.parse((await list).stdout)).toEqual(
    expect.arrayContaining([
      expect.objectContaining({
        name: 'tenant:acme',
        limit: expect.objectContaining({ ratePerSecond: 10, burst: 10, maxInFlight: 2, source: 'runtime' }),
      }),
    ]),
  );
  const { t } = db;
  const { rows } = await t.pool.query<{ attempts: number; n: number }>(
    `select attempts, count(*)::int as n from "${t.schema}".messages_archive group by 1`,
  );
  expect(rows).toEqual([{ attempts: 1, n: 560 }]);
}, 90_000);
