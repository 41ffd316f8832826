// Issue 22 item 1 with real processes: relays of the binary share one circuit breaker per
// destination through the database. Three relays send at most one probe per interval between
// them; a relay SIGKILLed while it holds the probe does not leave the breaker half-open
// forever; the CLI, the admin API and /metrics show the open state.
import { afterEach, describe, expect, it } from 'vitest';
import { listDestinations } from '../../src/core/maintenance/index.js';
import { waitFor } from '../support/recording-publisher.js';
import { reply, startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { freshDatabases, runCli } from './cli-process.js';
import { FLEET_ADMIN_TOKEN, webhookFleet } from './webhook-fleet.js';

const fresh = freshDatabases();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function setup(env: Record<string, string>) {
  const db = await fresh();
  const receiver: WebhookReceiver = await startWebhookReceiver({ respond: reply.status(503) });
  const fleet = webhookFleet(db, receiver.url);
  Object.assign(fleet.env, { RETRY_BASE_MS: '50', RETRY_MAX_MS: '500', BREAKER_WINDOW_MS: '5000', ...env });
  cleanups.push(async () => {
    for (const p of fleet.processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await receiver.close();
  });
  const breaker = async () =>
    (await listDestinations(db.t.db, { schema: db.t.schema })).find((d) => d.name === 'webhook')?.breaker ??
    'closed';
  return { ...db, receiver, fleet, breaker };
}

describe('circuit breaker across relay processes', () => {
  it('three relays send at most one probe per interval during an outage, and show the open breaker', async () => {
    const PROBE_MS = 600;
    const { t, env, receiver, fleet, breaker } = await setup({
      BREAKER_PROBE_MS: String(PROBE_MS),
      BREAKER_PROBE_MAX_MS: String(PROBE_MS),
    });
    const [a] = await Promise.all([fleet.start(), fleet.start(), fleet.start()]);
    await fleet.add(300);
    await waitFor(async () => (await breaker()) !== 'closed', 'the breaker to open', 15_000);
    await sleep(800);
    const before = receiver.requests.length;
    const windowMs = 4_800;
    await sleep(windowMs);
    const probes = receiver.requests.length - before;
    // 8 intervals: one probe each, not one per relay (24), let alone the retries of 300 messages.
    expect(probes).toBeGreaterThanOrEqual(3);
    expect(probes).toBeLessThanOrEqual(windowMs / PROBE_MS + 2);

    const list = await runCli(['destinations', 'list'], { ...env, OUTBOX_SCHEMA: t.schema });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/webhook\s+(open|half-open)/);
    const metrics = await (await fetch(`${a!.base}/metrics`)).text();
    expect(metrics).toMatch(
      /outbox_destination_breaker_open\{destination="webhook",state="(open|half-open)"\} 1/,
    );
    const admin = (await (
      await fetch(`${a!.base}/api/admin/destinations`, {
        headers: { authorization: `Bearer ${FLEET_ADMIN_TOKEN}` },
      })
    ).json()) as unknown;
    expect(JSON.stringify(admin)).toMatch(/"breaker":"(open|half-open)"/);
    const page = (await (
      await fetch(`${a!.base}/api/destinations`, {
        headers: { authorization: `Bearer ${FLEET_ADMIN_TOKEN}` },
      })
    ).json()) as { destinations: Array<{ destination: string; state: string; breaker: unknown }> };
    const row = page.destinations.find((d) => d.destination === 'webhook');
    expect(row?.state).toMatch(/^(open|half-open)$/);
    expect(row?.breaker).toMatchObject({ state: row?.state });

    receiver.respond(reply.ok());
    await waitFor(async () => (await fleet.delivered()) === 300, 'the drain after recovery', 15_000);
    const { rows } = await t.pool.query(
      `select count(*)::int as n from "${t.schema}".all_messages where status = 'dead'`,
    );
    expect(rows[0].n).toBe(0);
    expect(await breaker()).toBe('closed');
  });

  it('a relay SIGKILLed while holding the probe: another relay probes after the probe lease and closes the breaker', async () => {
    const { t, receiver, fleet, breaker } = await setup({
      BREAKER_PROBE_MS: '400',
      BREAKER_PROBE_MAX_MS: '400',
      LEASE_MS: '3000',
    });
    const first = await fleet.start();
    await fleet.add(100);
    await waitFor(async () => (await breaker()) !== 'closed', 'the breaker to open', 15_000);
    // From now on every request hangs: the next probe too, and its relay dies holding it.
    // (Attempts in flight when the breaker opened may hang first: wait for the probe itself.)
    receiver.respond(reply.timeout());
    await waitFor(async () => (await breaker()) === 'half-open', 'a probe to be taken', 10_000);
    first.process.child.kill('SIGKILL');
    await first.process.exited;
    const killedAt = Date.now();

    receiver.respond(reply.ok());
    await fleet.start();
    await waitFor(async () => (await breaker()) === 'closed', 'another relay to probe and close it', 15_000);
    await waitFor(async () => (await fleet.delivered()) === 100, 'the drain', 15_000);
    // Not before the dead relay's probe lease (3 s from its take) ran out.
    expect(Date.now() - killedAt).toBeGreaterThan(1_000);
    const { rows } = await t.pool.query(
      `select count(*)::int as n from "${t.schema}".all_messages where status = 'dead'`,
    );
    expect(rows[0].n).toBe(0);
  });
});
