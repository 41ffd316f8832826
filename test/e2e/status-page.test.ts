import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { type FakeRouter, startFakeRouter } from '../../src/testing/fake-router/index.js';
import { startBrowser, type TestBrowser } from '../support/browser.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/recording-publisher.js';
import { reply, startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { assertBuildCurrent, type CliProcess, runCli, spawnCli } from './cli-process.js';

const require = createRequire(import.meta.url);
const ADMIN_TOKEN = 'status-page-e2e-token-0123456789';
const XSS_DESTINATION = '<img src=x onerror=alert(1)>';
const XSS_ERROR = '<script>alert(2)</script> from the endpoint';
/** Test output, git-ignored (.tmp/): the screenshot of each run lands here. */
const OUTPUT_DIR = path.resolve(import.meta.dirname, '../../.tmp/e2e');

/** Polls `read` until `ok` holds for what it returns; fails with the last value seen. */
async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (ok(last)) return last;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The destination row's cells as the operator reads them, or undefined when it is not shown. */
async function destinationRow(page: Page, destination: string) {
  const row = page.locator(`#destinations tbody tr[data-destination=${JSON.stringify(destination)}]`);
  if ((await row.count()) === 0) return undefined;
  const [name, state, pending, inFlight, oldest, delivered, failed, dead, lastError] = await row
    .locator('td')
    .allTextContents();
  return {
    name,
    state,
    pending: Number(pending),
    inFlight: Number(inFlight),
    delivered,
    failed,
    dead: Number(dead),
    oldest,
    lastError,
  };
}

describe('the status page in a real browser', () => {
  let t: TestDatabase;
  let receiver: WebhookReceiver;
  let router: FakeRouter;
  let relay: CliProcess;
  let browser: TestBrowser;
  let base: string;
  let brokenFails = true;
  const dialogs: string[] = [];
  const foreignRequests: string[] = [];

  beforeAll(async () => {
    assertBuildCurrent();
    t = await createTestDatabase();
    // One endpoint (messages for tenant "broken") answers 500 until it recovers; the rest 200.
    receiver = await startWebhookReceiver({
      respond: (request) =>
        request.body.includes('"down"')
          ? reply.status(503, 'maintenance')
          : brokenFails && request.body.includes('"broken"')
            ? reply.status(500, 'db down')
            : request.body.includes('"half-bad"')
              ? reply.status(422, 'unknown customer')
              : reply.ok(),
    });
    router = await startFakeRouter({ users: { api: 'router-Secret-1' } });
    const env = {
      DATABASE_URL: t.url,
      OUTBOX_SCHEMA: t.schema,
      OUTBOX_CREDENTIALS_KEY: randomBytes(32).toString('base64'),
      OUTBOX_PUBLISHER_TYPE: 'webhook,routeros',
      OUTBOX_WEBHOOK_URL: `${receiver.url}/hooks`,
      OUTBOX_WEBHOOK_SECRET: `whsec_${randomBytes(24).toString('base64')}`,
      OUTBOX_WEBHOOK_ALLOW_PRIVATE: 'true',
    };
    const add = await runCli(
      ['devices', 'add', '--name', 'tower-off', '--host', router.host, '--port', String(router.port)].concat([
        '--username',
        'api',
        '--password',
        'router-Secret-1',
      ]),
      env,
    );
    expect(add.code, add.stderr).toBe(0);
    // The router goes offline: nothing listens on its port any more.
    await router.setMode({ offline: true });

    const outbox = createOutbox({ schema: t.schema });
    // `n` invoices for `destination`, each payload its index beside `payload`.
    const invoices = (destination: string, n: number, payload = {}, maxAttempts?: number) =>
      outbox.addMany(
        t.db,
        Array.from({ length: n }, (_, i) => ({
          type: 'invoice.paid',
          destination,
          payload: { ...payload, i },
          ...(maxAttempts ? { maxAttempts } : {}),
        })),
      );
    await invoices('webhook:acme', 5);
    await invoices('webhook:broken', 3, { tenant: 'broken' }, 3);
    // An endpoint that answers 503 to all of 12 messages: its circuit breaker opens (issue 22).
    await invoices('webhook:down', 12, { tenant: 'down' });
    // And one an operator paused for maintenance before the relay started.
    await invoices('webhook:maint', 2);
    const pause = await runCli(
      ['destinations', 'pause', 'webhook:maint', '--reason', 'receiver maintenance until 18:00'],
      env,
    );
    expect(pause.code, pause.stderr).toBe(0);
    // Half of these die at once (422 is permanent), half are delivered.
    await outbox.addMany(
      t.db,
      ['half-bad', 'half-ok', 'half-bad', 'half-ok'].map((tenant) => ({
        type: 'invoice.paid',
        destination: 'webhook:half',
        payload: { tenant },
      })),
    );
    for (const name of ['alice', 'bob']) {
      await outbox.addCommand(t.db, {
        device: 'tower-off',
        action: 'pppoe.create',
        params: { name, password: 'pppoe-pw', profile: 'default' },
      });
    }
    // Queued an hour ago: the router has been unreachable since.
    await t.pool.query(
      `update "${t.schema}".messages set created_at = now() - interval '61 minutes' where destination = 'routeros:tower-off'`,
    );
    // No publisher in this relay serves nats:*: they wait, never attempted, for 10 minutes.
    await outbox.addMany(t.db, [
      { type: 'order.created', destination: 'nats:orders', payload: {} },
      { type: 'order.created', destination: 'nats:orders', payload: {} },
    ]);
    await t.pool.query(
      `update "${t.schema}".messages set created_at = now() - interval '10 minutes' where destination = 'nats:orders'`,
    );
    // Markup in a destination and an error, straight in the table: whatever the relay does with it.
    await t.pool.query(
      `insert into "${t.schema}".messages
         (message_id, type, destination, payload, status, attempts, last_error, dead_reason, dead_at)
       values (gen_random_uuid(), 'x.y', $1, '{}', 'dead', 1, $2, 'permanent', now())`,
      [XSS_DESTINATION, XSS_ERROR],
    );

    relay = spawnCli(
      ['start'],
      {
        ...env,
        HTTP_PORT: '0',
        HTTP_HOST: '127.0.0.1',
        ADMIN_TOKEN,
        POLL_INTERVAL_MS: '100',
        LOG_LEVEL: 'info',
      },
      { built: true },
    );
    const { port } = await relay.waitForLog((l) => l.msg === 'HTTP endpoint listening', 'the HTTP endpoint');
    base = `http://127.0.0.1:${port}`;
    browser = await startBrowser();
    browser.context.on('request', (r) => {
      if (!r.url().startsWith(base)) foreignRequests.push(r.url());
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (relay) {
      relay.child.kill('SIGTERM');
      await relay.exited;
    }
    await router?.close();
    await receiver?.close();
    await t?.close();
  });

  async function openPage(): Promise<Page> {
    const page = await browser.context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(`${base}/?refresh=1`);
    return page;
  }

  it('shows nothing but a login prompt without the token, and nothing after a wrong one', async () => {
    const page = await openPage();
    await page.locator('#login').waitFor({ state: 'visible' });
    expect(await page.locator('#app').isHidden()).toBe(true);
    await page.fill('#token', 'not-the-token-not-the-token');
    await page.click('#login button[type=submit]');
    await until(
      () => page.locator('#login-error').textContent(),
      (text) => (text ?? '').includes('Wrong token'),
      'the wrong-token message',
    );
    expect(await page.locator('#app').isHidden()).toBe(true);
    const text = (await page.locator('body').textContent()) ?? '';
    expect(text).not.toContain('tower-off');
    expect(text).not.toContain('webhook:');
    expect(await page.locator('#destinations tbody tr').count()).toBe(0);
    await page.close();
  });

  it('after login shows the offline router stuck, the failing endpoint failing, the healthy one flowing', async () => {
    const page = await openPage();
    await page.fill('#token', ADMIN_TOKEN);
    await page.click('#login button[type=submit]');
    await page.locator('#app').waitFor({ state: 'visible' });

    const tower = await until(
      () => destinationRow(page, 'routeros:tower-off'),
      (r) => r?.state === 'stuck',
      'the offline router shown stuck',
    );
    expect(tower!.pending + tower!.inFlight).toBe(2);
    expect(tower!.oldest).toMatch(/^1 h \d+ min$/);
    // The report's counts come from statements run side by side, each its own snapshot: one
    // refresh can count the third death and still count that message in flight. The next
    // refresh (once a second here) shows the settled state this test is about.
    const broken = await until(
      () => destinationRow(page, 'webhook:broken'),
      (r) => r?.state === 'failing' && r.dead === 3 && r.pending + r.inFlight === 0,
      'the failing endpoint shown failing with its 3 dead and nothing waiting',
    );
    expect(broken!.pending + broken!.inFlight).toBe(0);
    // Nothing waits, so the reason is the newest death's.
    expect(broken!.lastError).toMatch(/^died \(max_attempts\): gave up after 3 attempts/);
    const half = await until(
      () => destinationRow(page, 'webhook:half'),
      (r) => r?.delivered === '2 / 2' && r.dead === 2,
      'the half-dead endpoint with 2 delivered and 2 dead',
    );
    expect(half!.state).toBe('failing');
    expect(half!.lastError).toMatch(/^died \(permanent\): .*422/);
    expect(await page.locator('#alerts p').allTextContents()).toContainEqual(
      expect.stringContaining('webhook:half is failing'),
    );
    // The relay of this test is connected and shown, though it holds no lease right now.
    expect(await page.locator('#health').textContent()).toMatch(/Relays seen.*\(connected/);
    // 3 messages x (2 failed attempts + 1 that died).
    expect(broken!.failed).toBe('9 / 9');
    const nats = await until(
      () => destinationRow(page, 'nats:orders'),
      (r) => r?.state === 'unserved',
      'the destination nobody serves shown unserved',
    );
    expect(nats).toMatchObject({ pending: 2, inFlight: 0, failed: '0 / 0', dead: 0 });
    const acme = await until(
      () => destinationRow(page, 'webhook:acme'),
      (r) => r?.delivered === '5 / 5',
      'the healthy endpoint shown with its 5 deliveries',
    );
    expect(acme).toMatchObject({ state: 'flowing', pending: 0, dead: 0 });
    // The alerts name the stuck router first, at the top of the page.
    expect(await page.locator('#alerts p').allTextContents()).toContainEqual(
      expect.stringContaining('routeros:tower-off is stuck: oldest message waiting 1 h'),
    );
    await until(
      () => page.locator('#chart-totals').textContent(),
      (text) => (text ?? '').startsWith('7 delivered, '),
      'the chart totals',
    );
    expect(await page.locator('#chart svg rect.bar-delivered').count()).toBeGreaterThanOrEqual(60);
    expect(await page.locator('#jobs tbody tr[data-job="cleanup"]').count()).toBe(1);

    // The open breaker and the paused destination, each waiting with nothing dead.
    const down = await until(
      () => destinationRow(page, 'webhook:down'),
      (r) => /^(open|half-open) /.test(r?.state ?? '') && r!.dead === 0,
      'the 503 endpoint shown with its circuit breaker open',
    );
    expect(down!.pending + down!.inFlight).toBe(12);
    const maint = await until(
      () => destinationRow(page, 'webhook:maint'),
      (r) => (r?.state ?? '').startsWith('paused '),
      'the paused destination shown paused',
    );
    expect(maint).toMatchObject({ pending: 2, dead: 0 });
    await mkdir(OUTPUT_DIR, { recursive: true });
    await page.screenshot({ path: path.join(OUTPUT_DIR, 'status-page.png'), fullPage: true });

    // A destination that is markup renders as text: no element made of it, no script run.
    const xss = await until(
      () => destinationRow(page, XSS_DESTINATION),
      (r) => r !== undefined,
      'the markup-named destination',
    );
    expect(xss!.name).toBe(XSS_DESTINATION);
    expect(await page.locator('img').count()).toBe(0);
    const xssGroup = page.locator(`#dead tbody tr[data-destination=${JSON.stringify(XSS_DESTINATION)}]`);
    expect(await xssGroup.locator('td').allTextContents()).toEqual(
      expect.arrayContaining([XSS_DESTINATION, XSS_ERROR]),
    );
    expect(await page.locator('script').count()).toBe(1); // /status.js, nothing else
    expect(dialogs).toEqual([]);
    expect(foreignRequests).toEqual([]);

    // The endpoint recovers; replay its dead group from the page.
    brokenFails = false;
    await page.click(
      '#dead tbody tr[data-destination="webhook:broken"][data-reason="max_attempts"] button.replay',
    );
    await page.locator('#confirm').waitFor({ state: 'visible' });
    expect(await page.locator('#confirm p').textContent()).toContain(
      'Replay 3 dead message(s) of webhook:broken',
    );
    await page.click('#confirm-yes');
    await until(
      () => page.locator('#dead-result').textContent(),
      (text) => text === 'Replayed 3 message(s) of webhook:broken.',
      'the replay result',
    );
    await waitFor(async () => {
      const { rows } = await t.pool.query(
        `select count(*)::int as n from "${t.schema}".all_messages where destination = 'webhook:broken' and status = 'delivered'`,
      );
      return rows[0].n === 3;
    }, 'the replayed messages delivered');
    const brokenIds = (
      await t.pool.query(
        `select message_id from "${t.schema}".all_messages where destination = 'webhook:broken'`,
      )
    ).rows.map((r) => r.message_id as string);
    for (const id of brokenIds) expect(receiver.deliveries().get(id)).toBe(1);
    await until(
      () => destinationRow(page, 'webhook:broken'),
      (r) => r?.state === 'flowing' && r.dead === 0 && r.delivered === '3 / 3',
      'the recovered endpoint shown flowing',
    );
    expect(
      await page.locator('#dead tbody tr[data-destination="webhook:broken"]').count(),
      'the replayed group is gone',
    ).toBe(0);
    expect(dialogs).toEqual([]);
    await page.close();
  });

  it("drills into a destination's last attempts and tells a message's story, by click and by search", async () => {
    const page = await openPage();
    await page.fill('#token', ADMIN_TOKEN);
    await page.click('#login button[type=submit]');
    await page.locator('#app').waitFor({ state: 'visible' });
    await page.click('#destinations button.dest-link[data-destination="webhook:broken"]');
    await page.locator('#drill-attempts').waitFor({ state: 'visible' });
    expect(await page.locator('#drill-title').textContent()).toBe('Last attempts of webhook:broken');
    // ATTEMPT_LOG's default logs failures: 3 messages x 3 attempts answered 500; and the page's
    // replay of the 3, newest first.
    const drilled = page.locator('#drill-attempts tbody tr');
    expect(await drilled.count()).toBe(12);
    expect(
      await drilled.evaluateAll((rows) => rows.slice(0, 3).map((r) => r.getAttribute('data-outcome'))),
    ).toEqual(['replayed', 'replayed', 'replayed']);
    const failedAttempts = page.locator('#drill-attempts tbody tr[data-outcome="transient"]');
    expect(await failedAttempts.locator('td.status').allTextContents()).toEqual(Array(9).fill('500'));
    expect(await failedAttempts.first().locator('td.error').textContent()).toContain('db down');

    // A message id in the drill-down opens its story: three failures, the replay, delivered.
    const first = drilled.first().locator('button.story-link');
    const id = (await first.textContent())!;
    await first.click();
    await until(
      () => page.locator('#story-facts').textContent(),
      (text) => (text ?? '').includes(id),
      'the story of the clicked message',
    );
    const facts = (await page.locator('#story-facts').textContent()) ?? '';
    expect(facts).toContain('webhook:broken');
    expect(facts).toMatch(/Nowdelivered at \d{4}-/);
    expect(
      await page
        .locator('#story-attempts tbody tr')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-outcome'))),
    ).toEqual(['transient', 'transient', 'transient', 'replayed']);
    expect((await page.locator('#story').textContent()) ?? '').not.toContain('"tenant"');

    // The search finds a message by its id: one that died at once of a 422.
    const { rows } = await t.pool.query<{ message_id: string }>(
      `select message_id from "${t.schema}".messages where destination = 'webhook:half' and dead_at is not null limit 1`,
    );
    await page.fill('#search-id', rows[0]!.message_id);
    await page.click('#search button[type=submit]');
    await until(
      () => page.locator('#story-facts').textContent(),
      (text) => (text ?? '').includes(rows[0]!.message_id),
      'the story of the searched message',
    );
    expect(await page.locator('#story-facts').textContent()).toMatch(/Nowdead since .* because permanent/);
    expect(await page.locator('#story-attempts tbody td.status').allTextContents()).toEqual(['422']);
    expect(await page.locator('#story-attempts tbody td.error').textContent()).toContain('unknown customer');
    await page.fill('#search-id', '00000000-0000-7000-8000-000000000000');
    await page.click('#search button[type=submit]');
    await until(
      () => page.locator('#story').textContent(),
      (text) => (text ?? '').includes('no message with id or message_id'),
      'the not-found message',
    );
    expect(dialogs).toEqual([]);
    await page.close();
  });

  it('passes axe-core with no serious or critical violation, and logs no console error', async () => {
    const page = await browser.context.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    await page.goto(`${base}/?refresh=1`);
    await page.fill('#token', ADMIN_TOKEN);
    await page.click('#login button[type=submit]');
    await page.locator('#app').waitFor({ state: 'visible' });
    await until(
      () => page.locator('#destinations tbody tr').count(),
      (n) => n >= 4,
      'the destinations rendered',
    );
    // axe runs through the DevTools protocol, which the page's CSP does not govern.
    await page.evaluate(fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
    const violations = await page.evaluate(async () => {
      type Violation = { id: string; impact: string | null; nodes: unknown[] };
      const axe = (globalThis as { axe?: { run(): Promise<{ violations: Violation[] }> } }).axe!;
      const result = await axe.run();
      return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
    });
    expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
    // Before the login the page's first reads are answered 401 (that is how it learns it needs
    // the token); nothing else may reach the console, such as the favicon's 404.
    expect(consoleErrors.filter((e) => !e.includes('status of 401'))).toEqual([]);
    expect(consoleErrors.length).toBeLessThanOrEqual(4);
    await page.close();
  });

  it('hides everything again for a new tab, which has no token', async () => {
    const page = await openPage();
    await page.locator('#login').waitFor({ state: 'visible' });
    expect(await page.locator('#app').isHidden()).toBe(true);
    expect((await page.locator('body').textContent()) ?? '').not.toContain('tower-off');
    await page.close();
  });
});
