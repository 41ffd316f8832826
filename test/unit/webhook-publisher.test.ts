import { createHmac } from 'node:crypto';
import { inspect } from 'node:util';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  OutboxValidationError,
  DestinationGoneError,
  PermanentPublishError,
  TransientPublishError,
} from '../../src/core/foundation/errors.js';
import type { WebhookPublisherOptions } from '../../src/publishers/webhook/webhook-options.js';
import { WebhookPublisher } from '../../src/publishers/webhook/webhook-publisher.js';
import { makeTestMessage, testContext } from '../support/publisher-contract.js';
import { reply, startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const OLD_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const NOW = new Date('2030-01-01T00:00:00Z');

let receiver: WebhookReceiver;
const publishers: WebhookPublisher[] = [];

function publisher(options: Partial<WebhookPublisherOptions> = {}): WebhookPublisher {
  const p = new WebhookPublisher({
    url: `${receiver.url}/hooks`,
    secrets: [SECRET],
    allowPrivateNetworks: true,
    ...options,
  });
  publishers.push(p);
  return p;
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected the publish to fail');
    },
    (e: Error) => e,
  );
}

beforeAll(async () => {
  receiver = await startWebhookReceiver({ secrets: [SECRET], toleranceSeconds: 10 ** 10 });
});
afterEach(async () => {
  receiver.respond(reply.ok());
  await Promise.all(publishers.splice(0).map((p) => p.close()));
});
afterAll(() => receiver.close());

describe('WebhookPublisher requests', () => {
  it('POSTs the stored body byte-for-byte with Standard Webhooks headers the official package verifies', async () => {
    const body = '{"name": "Zoë ✓", "nested": {"a": [1, 2.50, null]}, "big": 12345678901234567890}';
    const message = makeTestMessage({ body, payload: JSON.parse(body) });
    const from = receiver.requests.length;
    const result = await publisher().publish(message, testContext());
    expect(result).toEqual({ status: 200 });
    const got = receiver.requests[from]!;
    expect(got.method).toBe('POST');
    expect(got.path).toBe('/hooks');
    expect(got.body).toBe(body);
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['webhook-id']).toBe(message.messageId);
    expect(got.verified).toBe(true);
    const now = Math.floor(Date.now() / 1000);
    expect(Math.abs(Number(got.headers['webhook-timestamp']) - now)).toBeLessThanOrEqual(2);
    expect(new Webhook(SECRET).verify(got.body, got.headers as Record<string, string>)).toEqual(
      JSON.parse(body),
    );
  });

  it('stamps webhook-timestamp from the injected clock, per attempt', async () => {
    let now = NOW;
    const p = publisher({ clock: { now: () => now } });
    const message = makeTestMessage();
    const from = receiver.requests.length;
    await p.publish(message, testContext());
    now = new Date(NOW.getTime() + 42_000);
    await p.publish(message, testContext({ attempt: 2 }));
    const [first, second] = receiver.requests.slice(from);
    expect(first!.timestamp).toBe(NOW.getTime() / 1000);
    expect(second!.timestamp).toBe(NOW.getTime() / 1000 + 42);
    expect(second!.id).toBe(first!.id);
  });

  it('sends one signature per secret during rotation', async () => {
    const from = receiver.requests.length;
    await publisher({ secrets: [OLD_SECRET, SECRET] }).publish(makeTestMessage(), testContext());
    const got = receiver.requests[from]!;
    expect(String(got.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(got.verified).toBe(true); // the receiver only knows SECRET
  });

  it('adds Stripe- and GitHub-style signatures that those schemes verify', async () => {
    const from = receiver.requests.length;
    await publisher({
      signatureSchemes: ['standard', 'stripe', { scheme: 'github', header: 'X-Signature' }],
    }).publish(makeTestMessage(), testContext());
    const got = receiver.requests[from]!;
    const t = got.timestamp!;
    expect(got.headers['stripe-signature']).toBe(
      `t=${t},v1=${createHmac('sha256', SECRET).update(`${t}.${got.body}`).digest('hex')}`,
    );
    expect(got.headers['x-signature']).toBe(
      `sha256=${createHmac('sha256', SECRET).update(got.body).digest('hex')}`,
    );
    expect(got.verified).toBe(true);
  });

  it('adds configured headers but never lets them replace the signature headers', async () => {
    const from = receiver.requests.length;
    await publisher({
      headers: (m) => ({ 'x-tenant': m.tenantId ?? 'none', 'webhook-id': 'forged' }),
    }).publish(makeTestMessage({ tenantId: 'acme' }), testContext());
    const got = receiver.requests[from]!;
    expect(got.headers['x-tenant']).toBe('acme');
    expect(got.headers['webhook-id']).not.toBe('forged');
  });

  it('routes by resolveUrl, then by the destination suffix in urls, then to url', async () => {
    const p = publisher({
      url: `${receiver.url}/default`,
      urls: { acme: `${receiver.url}/acme` },
      resolveUrl: (m) => (m.tenantId === 'vip' ? `${receiver.url}/vip` : undefined),
    });
    const from = receiver.requests.length;
    await p.publish(makeTestMessage({ tenantId: 'vip', destination: 'webhook:acme' }), testContext());
    await p.publish(makeTestMessage({ destination: 'webhook:acme' }), testContext());
    await p.publish(makeTestMessage({ destination: 'webhook:other' }), testContext());
    expect(receiver.requests.slice(from).map((r) => r.path)).toEqual(['/vip', '/acme', '/default']);
  });

  it('dead-letters a message with no URL for its destination', async () => {
    const p = publisher({ url: undefined, urls: { acme: `${receiver.url}/acme` } });
    const error = await failure(p.publish(makeTestMessage({ destination: 'webhook:nobody' }), testContext()));
    expect(error).toBeInstanceOf(PermanentPublishError);
    expect(error.message).toContain('webhook:nobody');
  });
});

describe('WebhookPublisher response handling', () => {
  it.each([200, 201, 202, 204, 299])('treats %i as delivered', async (status) => {
    receiver.respond(reply.status(status));
    await expect(publisher().publish(makeTestMessage(), testContext())).resolves.toEqual({ status });
  });

  it.each([500, 502, 503, 504])('retries %i, quoting the start of the body', async (status) => {
    receiver.respond(reply.status(status, 'database is down'));
    const error = await failure(publisher().publish(makeTestMessage(), testContext()));
    expect(error).toBeInstanceOf(TransientPublishError);
    expect(error.message).toContain(`answered ${status}`);
    expect(error.message).toContain('database is down');
    expect((error as TransientPublishError).retryAfterMs).toBeUndefined();
  });

  it('retries 429 after the Retry-After seconds', async () => {
    receiver.respond(reply.tooManyRequests('120'));
    const error = await failure(publisher().publish(makeTestMessage(), testContext()));
    expect(error).toBeInstanceOf(TransientPublishError);
    expect((error as TransientPublishError).retryAfterMs).toBe(120_000);
  });

  it('retries 503 after a Retry-After HTTP-date, measured on the injected clock and clamped', async () => {
    receiver.respond(
      reply.status(503, '', { 'retry-after': new Date(NOW.getTime() + 90_000).toUTCString() }),
    );
    const error = await failure(
      publisher({ clock: { now: () => NOW } }).publish(makeTestMessage(), testContext()),
    );
    expect((error as TransientPublishError).retryAfterMs).toBe(90_000);
    receiver.respond(reply.tooManyRequests('86400'));
    const clamped = await failure(
      publisher({ maxRetryAfterMs: 600_000 }).publish(makeTestMessage(), testContext()),
    );
    expect((clamped as TransientPublishError).retryAfterMs).toBe(600_000);
  });

  it.each([400, 401, 403, 404, 408, 422])(
    'dead-letters %i with the status and the first bytes of the body',
    async (status) => {
      receiver.respond(reply.status(status, `{"error":"nope ${'x'.repeat(1000)}"}`));
      const error = await failure(publisher().publish(makeTestMessage(), testContext()));
      expect(error).toBeInstanceOf(PermanentPublishError);
      expect(error.message).toContain(`answered ${status}`);
      expect(error.message).toContain('nope');
      expect(error.message.length).toBeLessThan(600);
    },
  );

  it.each([301, 302, 307, 308])('dead-letters a %i redirect without following it', async (status) => {
    const from = receiver.requests.length;
    receiver.respond((r) =>
      r.path === '/hooks' ? reply.redirect(`${receiver.url}/elsewhere`, status) : reply.ok(),
    );
    const error = await failure(publisher().publish(makeTestMessage(), testContext()));
    expect(error).toBeInstanceOf(PermanentPublishError);
    expect(error.message).toMatch(new RegExp(`${status} redirect to .*/elsewhere`));
    expect(receiver.requests.slice(from).map((r) => r.path)).toEqual(['/hooks']);
  });

  it('throws DestinationGoneError on 410 (the relay pauses the destination) and disables nothing in memory', async () => {
    const p = publisher({ url: `${receiver.url}/gone` });
    receiver.respond(reply.gone());
    const first = await failure(p.publish(makeTestMessage(), testContext()));
    expect(first).toBeInstanceOf(DestinationGoneError);
    expect(first).toMatchObject({ code: 'DESTINATION_GONE' });
    expect(first.message).toMatch(/410 Gone at attempt 1: the destination is paused until resumed/);
    expect(p.disabledEndpoints()).toEqual([]);
    receiver.respond(reply.ok());
    await expect(p.publish(makeTestMessage(), testContext())).resolves.toEqual({ status: 200 });
  });

  it('refuses an endpoint disabled with disableEndpoint until enableEndpoint', async () => {
    const p = publisher({ url: `${receiver.url}/gone` });
    p.disableEndpoint(`${receiver.url}/gone`, 'customer cancelled');
    const refused = await failure(p.publish(makeTestMessage(), testContext()));
    expect(refused).toBeInstanceOf(PermanentPublishError);
    expect(refused.message).toMatch(/is disabled since .*customer cancelled.*enableEndpoint/);
    expect(p.enableEndpoint(`${receiver.url}/gone`)).toBe(true);
    await expect(p.publish(makeTestMessage(), testContext())).resolves.toEqual({ status: 200 });
  });

  it('retries a receiver that never answers, after timeoutMs', async () => {
    receiver.respond(reply.timeout());
    const started = Date.now();
    const error = await failure(publisher({ timeoutMs: 200 }).publish(makeTestMessage(), testContext()));
    expect(error).toBeInstanceOf(TransientPublishError);
    expect(error.message).toMatch(/timed out after 200 ms|UND_ERR_HEADERS_TIMEOUT/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('cuts off each of several stalled requests at its own deadline, while others are delivered', async () => {
    receiver.respond(reply.timeout());
    const p = publisher({ timeoutMs: 400 });
    const timed = (promise: Promise<unknown>) =>
      failure(promise).then((error) => ({ error, at: performance.now() }));
    const first = timed(p.publish(makeTestMessage(), testContext()));
    await new Promise((r) => setTimeout(r, 200)); // the second starts later, so it expires later
    const second = timed(p.publish(makeTestMessage(), testContext()));
    const [a, b] = await Promise.all([first, second]);
    for (const { error } of [a, b]) {
      expect(error).toBeInstanceOf(TransientPublishError);
      expect(error.message).toContain('timed out after 400 ms');
    }
    expect(b.at - a.at).toBeGreaterThan(120);
    receiver.respond(reply.status(204));
    await expect(p.publish(makeTestMessage(), testContext())).resolves.toEqual({ status: 204 });
  });

  it('retries a connection reset and a refused connection', async () => {
    receiver.respond(reply.reset());
    const reset = await failure(publisher().publish(makeTestMessage(), testContext()));
    expect(reset).toBeInstanceOf(TransientPublishError);
    expect(reset.message).toMatch(/UND_ERR_SOCKET|ECONNRESET/);

    const closed = await startWebhookReceiver();
    const url = `${closed.url}/hooks`;
    await closed.close();
    const refused = await failure(publisher({ url }).publish(makeTestMessage(), testContext()));
    expect(refused).toBeInstanceOf(TransientPublishError);
    expect(refused.message).toContain('ECONNREFUSED');
  });

  it('counts a 200 whose body stalls as delivered (the status is the answer)', async () => {
    // undici checks body timeouts on a ~1 s tick, so the stall must be longer than that.
    receiver.respond(reply.slowBody(3, 2_500));
    const started = Date.now();
    await expect(
      publisher({ bodyTimeoutMs: 150, timeoutMs: 10_000 }).publish(makeTestMessage(), testContext()),
    ).resolves.toEqual({
      status: 200,
    });
    expect(Date.now() - started).toBeLessThan(2_400);
  });

  it('stops reading a huge response body at maxResponseBytes', async () => {
    receiver.respond(reply.status(500, 'e'.repeat(2 * 1024 * 1024)));
    const error = await failure(
      publisher({ maxResponseBytes: 1024 }).publish(makeTestMessage(), testContext()),
    );
    expect(error).toBeInstanceOf(TransientPublishError);
    expect(error.message).toMatch(/\(\d+\+ bytes\)/);
  });

  it('counts a 2xx with a huge body as delivered, reading no more than maxResponseBytes', async () => {
    receiver.respond(reply.status(200, 'o'.repeat(2 * 1024 * 1024)));
    await expect(
      publisher({ maxResponseBytes: 1024 }).publish(makeTestMessage(), testContext()),
    ).resolves.toEqual({ status: 200 });
  });

  it('gives up at once when the relay aborts, as a retryable failure', async () => {
    receiver.respond(reply.timeout());
    const controller = new AbortController();
    const pending = failure(
      publisher().publish(makeTestMessage(), testContext({ signal: controller.signal })),
    );
    await receiver.waitFor(() => receiver.requests.at(-1)?.reply.kind === 'timeout');
    controller.abort(new Error('relay stopping'));
    const error = await pending;
    expect(error).toBeInstanceOf(TransientPublishError);
    expect(error.message).toContain('aborted');
  });

  it('never puts a secret in an error, a log line or the logged publisher', async () => {
    receiver.respond(reply.status(400, 'bad'));
    const context = testContext();
    const p = publisher({ secrets: [SECRET, OLD_SECRET] });
    const error = await failure(p.publish(makeTestMessage(), context));
    const logged = JSON.stringify(context.logger.lines);
    const text = [error.message, error.stack, logged, inspect(p), JSON.stringify(p)].join('\n');
    for (const s of [SECRET, OLD_SECRET]) expect(text).not.toContain(s.slice(6));
  });
});

describe('WebhookPublisher configuration', () => {
  const base = { url: 'https://hooks.example.com/x', secrets: [SECRET] };

  it.each([
    ['url', { url: 'not a url' }, /url: must be an absolute http\(s\) URL/],
    ['url', { url: 'ftp://example.com/' }, /url: must be an http\(s\) URL, got scheme "ftp:"/],
    ['url', { url: 'https://user:pw@example.com/' }, /url: must not contain credentials/],
    ['urls.acme', { urls: { acme: 'file:///etc/passwd' } }, /urls\.acme: must be an http\(s\) URL/],
    ['url', { url: undefined }, /url: give url, urls or resolveUrl/],
    ['secrets', { secrets: [] }, /secrets: needs at least one/],
    ['secrets[0]', { secrets: ['whsec_c2hvcnQ='] }, /secrets\[0\]: must decode to 24\.\.64 bytes/],
    ['timeoutMs', { timeoutMs: 0 }, /timeoutMs: must be a positive number/],
    ['timeoutMs', { timeoutMs: -5 }, /timeoutMs/],
    ['headersTimeoutMs', { headersTimeoutMs: Number.NaN }, /headersTimeoutMs/],
    ['headers.webhook-signature', { headers: { 'webhook-signature': 'x' } }, /cannot be overridden/],
    ['signatureSchemes[0]', { signatureSchemes: ['hmac' as never] }, /standard, stripe or github/],
    ['allowHosts[0]', { allowHosts: ['10.0.0.0/99'] }, /not a valid CIDR/],
  ])('refuses a bad %s at construction, naming the field', (field, options, message) => {
    let error: unknown;
    try {
      new WebhookPublisher({ ...base, ...options } as WebhookPublisherOptions);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OutboxValidationError);
    expect((error as OutboxValidationError).field).toBe(field);
    expect((error as Error).message).toMatch(message);
  });

  it('never echoes a rejected secret', () => {
    const bad = `whsec_${Buffer.alloc(10, 1).toString('base64')}`;
    expect(() => new WebhookPublisher({ ...base, secrets: [bad] })).toThrow(/got 10 bytes/);
    try {
      new WebhookPublisher({ ...base, secrets: [bad] });
    } catch (e) {
      expect((e as Error).message).not.toContain(bad.slice(6));
    }
  });
});
