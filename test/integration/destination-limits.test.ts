// Issue 22 item 2 in one process: limits held in the database (migration 10) throttle a tenant
// or a destination for every relay sharing the table while others flow at full speed; excess
// waits without being charged an attempt; a limit set or cleared at run time applies without a
// restart; per-key order holds under a limit. Real PostgreSQL, a real HTTP receiver, two relays
// (each with its own claims). test/e2e/destination-limits.test.ts runs the fleet-wide rate and
// cap with three processes of the binary. Before migration 10 nothing limited a destination:
// every test here fails on main (no setDestinationPolicy; everything arrives at full speed).
import { expect, it } from 'vitest';
import { NOOP_LOGGER } from '../../src/core/foundation/logger.js';
import { sqlRunner } from '../../src/core/foundation/queryable.js';
import {
  clearDestinationPolicy,
  listDestinationPolicies,
  listDestinations,
  setDestinationPolicy,
} from '../../src/core/maintenance/index.js';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { createRelay, type Relay } from '../../src/core/relay/relay.js';
import { DestinationLimitStore, OutboxStore } from '../../src/core/store/index.js';
import { WebhookPublisher } from '../../src/publishers/webhook/webhook-publisher.js';
import { type CountingReceiver, startCountingReceiver } from '../support/counting-receiver.js';
import type { TestDatabase } from '../support/database.js';
import { destinationTestBed } from '../support/destination-test-bed.js';
import { explainingRunner, type PlanNode, planNodes } from '../support/explain-plan.js';
import { waitFor } from '../support/recording-publisher.js';

let t: TestDatabase;
let receiver: CountingReceiver;

const cleanups = destinationTestBed({
  tables: ['destination_limits'],
  startReceiver: startCountingReceiver,
  use: (db, r) => {
    t = db;
    if (r) receiver = r;
  },
});

/** A relay sending every `webhook:<x>` destination to `<receiver>/<x>`. */
function relay(): Relay {
  const webhook = new WebhookPublisher({
    url: `${receiver.url}/hooks`,
    urls: { acme: `${receiver.url}/acme`, other: `${receiver.url}/other` },
    secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    allowPrivateNetworks: true,
  });
  const r = createRelay({
    db: t.pool,
    schema: t.schema,
    publishers: { webhook },
    logger: NOOP_LOGGER,
    pollIntervalMs: 20,
  });
  cleanups.push(async () => {
    await r.stop();
    await webhook.close();
  });
  r.start();
  return r;
}

const add = (n: number, fields: { destination: string; tenantId?: string; orderingKey?: string }) =>
  createOutbox({ schema: t.schema }).addMany(
    t.db,
    Array.from({ length: n }, (_, i) => ({ type: 'limits.test', payload: { i }, ...fields })),
  );

const arrivals = (path: string) => receiver.requests.filter((r) => r.path === path);
const delivered = async () =>
  (await t.pool.query<{ n: number }>(`select count(*)::int as n from "${t.schema}".messages_archive`))
    .rows[0]!.n;
const seconds = (from: number) => (performance.now() - from) / 1000;

it("a tenant's limit holds for two relays while another tenant's messages flow at full speed", async () => {
  await setDestinationPolicy(t.db, 'tenant:acme', { ratePerSecond: 20, burst: 2 }, { schema: t.schema });
  await add(60, { destination: 'webhook:acme', tenantId: 'acme' });
  await add(300, { destination: 'webhook:other', tenantId: 'beta' });
  relay();
  relay();
  await waitFor(() => arrivals('/other').length === 300, 'all of tenant beta', 10_000);
  // Beta is not held back: all of its 300 arrive while acme's 60 (3 s at 20/s) are not half out.
  expect(arrivals('/acme').length).toBeLessThan(30);
  const betaDone = performance.now();
  await waitFor(() => arrivals('/acme').length === 60, 'all of tenant acme', 10_000);
  // Measured once beta is out: while a relay holds a full batch it claims nothing, limited or
  // not, and a bucket of burst 2 cannot save up the tokens of that second.
  const acme = arrivals('/acme').filter((r) => r.at > betaDone);
  const rate = (acme.length - 1) / ((acme.at(-1)!.at - acme[0]!.at) / 1000);
  expect(rate).toBeGreaterThan(20 * 0.85);
  expect(rate).toBeLessThan(20 * 1.15);
  // Waiting on the limit costs no attempt: every message went out exactly once, at attempt 1.
  await waitFor(async () => (await delivered()) === 360, 'all archived');
  const { rows } = await t.pool.query<{ attempts: number; n: number }>(
    `select attempts, count(*)::int as n from "${t.schema}".messages_archive group by 1`,
  );
  expect(rows).toEqual([{ attempts: 1, n: 360 }]);
  expect(new Set(receiver.requests.map((r) => r.id)).size).toBe(360);
}, 20_000);

it('a limit set and cleared at run time applies to running relays without a restart', async () => {
  relay();
  relay();
  await add(50, { destination: 'webhook:acme' });
  await waitFor(() => arrivals('/acme').length === 50, 'unlimited: all at once', 5_000);
  await setDestinationPolicy(t.db, 'webhook:*', { ratePerSecond: 10, burst: 1 }, { schema: t.schema });
  const limitedAt = performance.now();
  await add(200, { destination: 'webhook:acme' });
  await new Promise((r) => setTimeout(r, 1500));
  // 1.5 s at 10/s after a burst of 1; the relays learn the limit at once (the claim reads it).
  const during = arrivals('/acme').length - 50;
  expect(during).toBeLessThanOrEqual(Math.ceil(seconds(limitedAt) * 10) + 2);
  expect(during).toBeGreaterThanOrEqual(8);
  const listed = await listDestinationPolicies(t.db, { schema: t.schema });
  expect(listed).toMatchObject([
    { pattern: 'webhook:*', ratePerSecond: 10, burst: 1, maxInFlight: null, source: 'runtime' },
  ]);
  expect(listed[0]!.throttled).toBeGreaterThan(100);
  expect(await listDestinations(t.db, { schema: t.schema })).toMatchObject([
    { name: 'webhook:*', paused: false, limit: { ratePerSecond: 10 } },
  ]);
  const cleared = await clearDestinationPolicy(t.db, 'webhook:*', { schema: t.schema });
  expect(cleared.cleared).toBe(true);
  const clearedAt = performance.now();
  await waitFor(() => arrivals('/acme').length === 250, 'the rest at full speed once cleared', 5_000);
  expect(seconds(clearedAt)).toBeLessThan(2);
}, 20_000);

it('keeps per-key order under a limit and an in-flight cap', async () => {
  await setDestinationPolicy(
    t.db,
    'webhook:acme',
    { ratePerSecond: 200, burst: 10, maxInFlight: 3 },
    { schema: t.schema },
  );
  for (let round = 0; round < 10; round++)
    for (const key of ['k1', 'k2', 'k3', 'k4'])
      await add(5, { destination: 'webhook:acme', orderingKey: key });
  relay();
  relay();
  await waitFor(() => arrivals('/acme').length >= 200, 'all 200', 10_000);
  // The last write-backs may commit after their requests arrived: read the archive once all are in.
  await waitFor(async () => (await delivered()) === 200, 'all archived');
  const seen = new Map<string, number>();
  let outOfOrder = 0;
  const { rows } = await t.pool.query<{ message_id: string; ordering_key: string; id: string }>(
    `select message_id::text, ordering_key, id::text from "${t.schema}".messages_archive`,
  );
  const byMessage = new Map(rows.map((r) => [r.message_id, r]));
  for (const r of receiver.requests) {
    const m = byMessage.get(r.id)!;
    const last = seen.get(m.ordering_key) ?? 0;
    if (Number(m.id) < last) outOfOrder++;
    seen.set(m.ordering_key, Number(m.id));
  }
  expect(outOfOrder).toBe(0);
  expect(receiver.requests).toHaveLength(200);
  expect(receiver.maxInFlight()).toBeLessThanOrEqual(3);
}, 20_000);

it('a concurrency cap alone (no rate) holds for two relays and is reached', async () => {
  await receiver.close();
  receiver = await startCountingReceiver({ delayMs: 100 });
  await setDestinationPolicy(t.db, 'webhook:acme', { maxInFlight: 3 }, { schema: t.schema });
  await add(30, { destination: 'webhook:acme' });
  relay();
  relay();
  await waitFor(() => arrivals('/acme').length === 30, 'all 30 under the cap', 10_000);
  expect(receiver.maxInFlight()).toBe(3);
}, 20_000);

// Item 5: a throttled backlog costs the others' claim nothing. The relay's hold pass moves a
// limited destination's due rows past the claim index's due range, so the main claim's walk
// never reaches them; the per-row limit check alone (no hold) would read and reject each one.
it('the main claim skips a throttled backlog through its index: none of its rows is read', async () => {
  await setDestinationPolicy(t.db, 'webhook:acme', { ratePerSecond: 1, burst: 1 }, { schema: t.schema });
  await add(20_000, { destination: 'webhook:acme' });
  await add(20, { destination: 'webhook:other' });
  await t.pool.query(`vacuum analyze "${t.schema}".messages`);
  const store = new OutboxStore(t.schema);
  const run = sqlRunner(t.db);
  // The main claim, explained as it runs: rows its index walk read and its filter rejected.
  const rejected = async () => {
    const explain = explainingRunner(run, { analyze: true });
    const rows = await store.claim(explain.run, { limit: 50, workerId: 'probe', leaseMs: 30_000 });
    expect(rows).toEqual([]);
    await t.pool.query(
      `update "${t.schema}".messages set status = 'pending', locked_by = null, locked_until = null, attempts = 0`,
    );
    return planReads(explain.plans[0]!);
  };
  // Due and not yet held: the claim index hands all 20,000 to the filter before the 20 it takes.
  expect((await rejected()).removed).toBeGreaterThanOrEqual(20_000);
  const held = await new DestinationLimitStore(t.schema).hold(run, { limit: 50_000 });
  expect(held).toBe(20_000);
  // Planner statistics as autovacuum's analyze leaves them after so many updated rows: with
  // the old ones (every row due) it may prefer reading the whole table to the index.
  await t.pool.query(`analyze "${t.schema}".messages`);
  expect(await rejected()).toEqual({ removed: 0, messagesBy: ['messages_claim_idx'] });
  // And the relay sends the other destination at once, the limited one at its 1/s.
  relay();
  await waitFor(() => arrivals('/other').length === 20, 'the 20 unlimited messages', 10_000);
  expect(arrivals('/acme').length).toBeLessThanOrEqual(2);
}, 30_000);

/**
 * What a claim's choice of rows (its CTE `due`) read: rows its nodes rejected by filter (every
 * node, every loop), and how it walked `messages` (index name or node type; subplans such as
 * the key-head lookup left out).
 */
function planReads(root: PlanNode): { removed: number; messagesBy: string[] } {
  const due = planNodes(root).find((n) => n['Subplan Name'] === 'CTE due')!;
  const removed = planNodes(due).reduce((n, node) => n + (node['Rows Removed by Filter'] ?? 0), 0);
  const messagesBy = planNodes(due, (n) => !n['Subplan Name']?.startsWith('SubPlan'))
    .filter((n) => n['Relation Name'] === 'messages')
    .map((n) => n['Index Name'] ?? n['Node Type']);
  return { removed, messagesBy };
}
