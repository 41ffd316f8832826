// Issue 22 item 6 in a real browser: the status page shows a destination paused by a 410 Gone
// (state, reason), and its Resume, Pause and Retry-now buttons act for every relay behind the
// same confirmation and token as the dead-letter buttons. Before migration 9 the page had no
// paused state and no destination buttons.
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { startBrowser, type TestBrowser } from '../support/browser.js';
import { waitFor } from '../support/recording-publisher.js';
import { reply, startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { type CliProcess, freshDatabases, spawnCli } from './cli-process.js';

const ADMIN_TOKEN = 'destinations-page-e2e-token-0123456789';
const fresh = freshDatabases();
let receiver: WebhookReceiver;
let relay: CliProcess;
let browser: TestBrowser;
let page: Page;
let add: (n: number) => Promise<void>;
let delivered: () => Promise<number>;

beforeAll(async () => {
  const { t, env } = await fresh();
  receiver = await startWebhookReceiver({ respond: reply.gone() });
  relay = spawnCli(['start'], {
    ...env,
    OUTBOX_PUBLISHER_TYPE: 'webhook',
    OUTBOX_WEBHOOK_URL: `${receiver.url}/hooks`,
    OUTBOX_WEBHOOK_SECRET: `whsec_${randomBytes(24).toString('base64')}`,
    OUTBOX_WEBHOOK_ALLOW_PRIVATE: 'true',
    HTTP_PORT: '0',
    HTTP_HOST: '127.0.0.1',
    ADMIN_TOKEN,
    POLL_INTERVAL_MS: '50',
    ENABLE_JOBS: 'false',
    LOG_LEVEL: 'info',
  });
  const { port } = await relay.waitForLog((l) => l.msg === 'HTTP endpoint listening', 'the HTTP endpoint');
  add = async (n) => {
    await createOutbox({ schema: t.schema }).addMany(
      t.db,
      Array.from({ length: n }, (_, i) => ({ type: 'e2e.page', destination: 'webhook', payload: { i } })),
    );
  };
  delivered = async () =>
    (
      await t.pool.query<{ n: number }>(
        `select count(*)::int as n from "${t.schema}".all_messages where status = 'delivered'`,
      )
    ).rows[0]!.n;
  browser = await startBrowser();
  page = await browser.context.newPage();
  await page.goto(`http://127.0.0.1:${port}/?refresh=1`);
  await page.fill('#token', ADMIN_TOKEN);
  await page.click('#login button[type=submit]');
  await page.locator('#app').waitFor({ state: 'visible' });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  relay?.child.kill('SIGTERM');
  await relay?.exited;
  await receiver?.close();
});

const row = () => page.locator('#destinations tbody tr[data-destination="webhook"]');
const stateOf = async () => ((await row().count()) ? await row().getAttribute('data-state') : null);

async function confirm(button: string, expected: RegExp): Promise<void> {
  await row().locator(`button.${button}`).click();
  await page.locator('#destination-confirm').waitFor({ state: 'visible' });
  await page.click('#destination-confirm-yes');
  await waitFor(
    async () => expected.test((await page.locator('#destination-result').textContent()) ?? ''),
    `${button} result`,
  );
}

it('shows a destination paused by a 410 with its reason, and Resume sends what waited', async () => {
  await add(1);
  await waitFor(async () => (await stateOf()) === 'paused', 'the row shown paused');
  expect(await row().locator('td').nth(1).textContent()).toContain(
    'gone: the receiver answered 410, until resumed',
  );
  expect(await page.locator('#alerts').textContent()).toContain('webhook is paused');
  receiver.respond(reply.ok());
  await add(4);
  await confirm('resume', /^Resumed webhook \(\d+ message\(s\) due now\)\.$/);
  await waitFor(async () => (await delivered()) === 5, 'all five delivered');
  await waitFor(async () => (await stateOf()) === 'flowing', 'the row flowing again');
});

it('Pause with a reason holds new messages until Resume', async () => {
  await row().locator('button.pause').click();
  await page.locator('#destination-confirm').waitFor({ state: 'visible' });
  await page.fill('#pause-reason', 'receiver maintenance');
  await page.click('#destination-confirm-yes');
  await waitFor(async () => (await stateOf()) === 'paused', 'the row shown paused');
  expect(await row().locator('td').nth(1).textContent()).toContain('receiver maintenance, until resumed');
  const before = receiver.requests.length;
  await add(3);
  await new Promise((r) => setTimeout(r, 800));
  expect(receiver.requests.length).toBe(before);
  await confirm('resume', /^Resumed webhook \(\d+ message\(s\) due now\)\.$/);
  await waitFor(async () => (await delivered()) === 8, 'all eight delivered');
});

it('Retry now makes messages waiting on a backoff due at once', async () => {
  receiver.respond(reply.tooManyRequests('3600'));
  await add(1);
  await waitFor(
    async () =>
      receiver.requests.at(-1)?.reply.kind === 'status' && receiver.requests.at(-1)?.reply.status === 429
        ? true
        : false,
    'the 429',
  );
  receiver.respond(reply.ok());
  await waitFor(
    async () => (await stateOf()) === 'flowing' && (await row().locator('button.retry-now').count()) === 1,
    'the button',
  );
  await confirm('retry-now', /^Retrying 1 message\(s\) of webhook now\.$/);
  await waitFor(async () => (await delivered()) === 9, 'the retried message delivered');
});
