import { afterEach, describe, expect, it } from 'vitest';
import { reply, startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { freshDatabases, runCli } from './cli-process.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe('attempts and show commands', () => {
  const fresh = freshDatabases();
  let receiver: WebhookReceiver | undefined;
  afterEach(async () => {
    await receiver?.close();
  });

  it("print a destination's failed attempts and one message's whole story from the binary's relay", async () => {
    const { t, env } = await fresh();
    receiver = await startWebhookReceiver();
    // The first request of each message fails with 503 and a body; the retry is delivered.
    const seen = new Set<string>();
    receiver.respond((request) => {
      if (request.id && !seen.has(request.id)) {
        seen.add(request.id);
        return reply.status(503, 'receiver is warming up');
      }
      return reply.ok();
    });
    const webhookEnv = {
      ...env,
      OUTBOX_PUBLISHER_TYPE: 'webhook',
      OUTBOX_WEBHOOK_URL: `${receiver.url}/hooks`,
      OUTBOX_WEBHOOK_SECRET: SECRET,
      OUTBOX_WEBHOOK_ALLOW_PRIVATE: 'true',
      RETRY_BASE_MS: '1',
      RETRY_JITTER: '0',
      ATTEMPT_LOG: 'all',
    };
    const published = await runCli(
      ['publish', '--count', '2', '--type', 'e2e.story', '--destination', 'webhook'],
      webhookEnv,
    );
    expect(published.code).toBe(0);
    const { rows } = await t.pool.query<{ message_id: string }>(
      `select message_id from "${t.schema}".messages order by id`,
    );
    const id = rows[0]!.message_id;
    expect((await runCli(['run', '--drain'], webhookEnv)).code).toBe(0);

    const byDestination = await runCli(['attempts', '--destination', 'webhook', '--since', '1h'], webhookEnv);
    expect(byDestination.code).toBe(0);
    const lines = byDestination.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^at\s+message_id\s+destination\s+attempt\s+outcome\s+status/);
    expect(lines.filter((l) => / transient +503 /.test(l))).toHaveLength(2);
    expect(lines.filter((l) => / delivered +200 /.test(l))).toHaveLength(2);
    expect(byDestination.stdout).toContain('receiver is warming up');

    const json = await runCli(['attempts', '--message', id, '--json'], webhookEnv);
    expect(JSON.parse(json.stdout).map((a: { outcome: string }) => a.outcome)).toEqual([
      'transient',
      'delivered',
    ]);

    const show = await runCli(['show', id], webhookEnv);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`message   ${id}`);
    expect(show.stdout).toContain('type      e2e.story');
    expect(show.stdout).toMatch(/now +delivered at \d{4}-/);
    expect(show.stdout).toMatch(/ 1 +transient +503 /);
    expect(show.stdout).toMatch(/ 2 +delivered +200 /);

    const missing = await runCli(['show', '00000000-0000-7000-8000-000000000000'], webhookEnv);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no message with id or message_id');
    expect((await runCli(['attempts', '--message', '42'], webhookEnv)).code).toBe(2);
    expect((await runCli(['show'], webhookEnv)).code).toBe(2);
  }, 120_000);
});
