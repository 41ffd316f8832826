// Issue 22 item 6 in a real browser: the status page shows a destination paused by a 410 Gone
// (state, reason), and its Resume, Pause and Retry-now buttons act for every relay behind the
// same confirmation and token as the dead-letter buttons. Before migration 9 the page had no
// paused state and no destination buttons.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startBrowser, type TestBrowser } from '../support/browser.js';
import { waitFor } from '../support/recording-publisher.js';
import { reply, startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { freshDatabases } from './cli-process.js';
import { FLEET_ADMIN_TOKEN, webhookFleet } from './webhook-fleet.js';

const fresh = freshDatabases();
let receiver: WebhookReceiver;
let fleet: ReturnType<typeof webhookFleet>;
let browser: TestBrowser;
let page: Page;
const add = (n: number) => fleet.add(n);
const delivered = () => fleet.delivered();

beforeAll(async () => {
  receiver = await startWebhookReceiver({ respond: reply.gone() });
  fleet = webhookFleet(await fresh(), receiver.url);
  const { base } = await fleet.start();
  browser = await startBrowser();
  page = await browser.context.newPage();
  await page.goto(`${base}/?refresh=1`);
  await page.fill('#token', FLEET_ADMIN_TOKEN);
  await page.click('#login button[type=submit]');
  await page.locator('#app').waitFor({ state: 'visible' });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await fleet?.stop();
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
  await waitFor(() => {
    const last = receiver.requests.at(-1)?.reply;
    return last?.kind === 'status' && last.status === 429;
  }, 'the 429');
  receiver.respond(reply.ok());
  await waitFor(
    async () => (await stateOf()) === 'flowing' && (await row().locator('button.retry-now').count()) === 1,
    'the button',
  );
  await confirm('retry-now', /^Retrying 1 message\(s\) of webhook now\.$/);
  await waitFor(async () => (await delivered()) === 9, 'the retried message delivered');
});
