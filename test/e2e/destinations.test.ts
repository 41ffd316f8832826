// Issue 22 items 3, 4 and 6 with real processes: two `outbox-relay start` processes share one
// table; a 410 Gone seen by one pauses the destination for both, an operator pauses, resumes
// and retries now through the CLI and the admin routes, and /metrics shows the pause. Before
// migration 9 a 410 disabled the endpoint in one process's memory only: the other kept sending.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { waitFor } from '../support/recording-publisher.js';
import { reply, startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { type CliProcess, freshDatabases, runCli } from './cli-process.js';
import { FLEET_ADMIN_TOKEN as ADMIN_TOKEN, webhookFleet } from './webhook-fleet.js';

const fresh = freshDatabases();
let receiver: WebhookReceiver;
let fleet: ReturnType<typeof webhookFleet>;
let relays: CliProcess[] = [];

beforeEach(async () => {
  receiver = await startWebhookReceiver();
});
afterEach(async () => {
  await fleet?.stop();
  await receiver.close();
});

async function setup() {
  fleet = webhookFleet(await fresh(), receiver.url);
  relays = fleet.processes;
  /** Two relay processes with their HTTP endpoints; resolves with their base URLs. */
  const startTwo = async () => [(await fleet.start()).base, (await fleet.start()).base];
  return { env: fleet.env, startTwo, add: fleet.add, delivered: fleet.delivered };
}

const seen = (msg: string) => (p: CliProcess) =>
  p.waitForLog((l) => l.msg === msg && l.destination === 'webhook', `"${msg}" in each relay`);

it('a 410 seen by one relay process pauses the destination for both; `destinations resume` sends everything', async () => {
  const { env, startTwo, add, delivered } = await setup();
  receiver.respond(reply.gone());
  await startTwo();
  await add(1);
  await Promise.all(relays.map(seen('destination paused: no relay sends to it until it is resumed')));
  receiver.respond(reply.ok());
  await add(40);
  await new Promise((r) => setTimeout(r, 1000));
  expect(receiver.requests).toHaveLength(1);

  const list = await runCli(['destinations', 'list', '--json'], env);
  expect(list.code, list.stderr).toBe(0);
  expect(JSON.parse(list.stdout)).toMatchObject([{ name: 'webhook', paused: true, pausedReason: 'gone' }]);

  const resumed = await runCli(['destinations', 'resume', 'webhook'], env);
  expect(resumed.code, resumed.stderr).toBe(0);
  expect(resumed.stdout).toContain('resumed webhook; 41 held messages are due now');
  await waitFor(async () => (await delivered()) === 41, 'all 41 delivered after resume');
  await Promise.all(relays.map(seen('destination resumed')));
});

it('`destinations pause` stops both processes, /metrics shows it, the admin route resumes it for both', async () => {
  const { env, startTwo, add, delivered } = await setup();
  const paused = await runCli(['destinations', 'pause', 'webhook', '--reason', 'receiver maintenance'], env);
  expect(paused.code, paused.stderr).toBe(0);
  const [a, b] = await startTwo();
  await add(60);
  await Promise.all(relays.map(seen('destination paused: no relay sends to it until it is resumed')));
  await new Promise((r) => setTimeout(r, 1000));
  expect(receiver.requests).toHaveLength(0);

  const metrics = await (await fetch(`${a}/metrics`)).text();
  expect(metrics).toMatch(
    /^outbox_destination_paused\{destination="webhook",reason="receiver maintenance"\} 1$/m,
  );

  const post = (base: string, action: string, token?: string) =>
    fetch(`${base}/api/admin/destinations/${action}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ destination: 'webhook' }),
    });
  expect((await post(b!, 'resume')).status).toBe(401);
  expect((await post(b!, 'retry-now', ADMIN_TOKEN)).status).toBe(409);
  const res = await post(b!, 'resume', ADMIN_TOKEN);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ destination: 'webhook', resumed: true, released: 60 });
  await waitFor(async () => (await delivered()) === 60, 'all 60 delivered after resume');
  expect(await (await fetch(`${a}/metrics`)).text()).toMatch(
    /^outbox_destination_paused\{destination="webhook",reason=""\} 0$/m,
  );
});
