import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { OutboxValidationError } from '../../src/core/foundation/errors.js';
import { signWebhook } from '../../src/publishers/webhook/sign.js';
import { verifyWebhook } from '../../src/publishers/webhook/verify-webhook.js';
import { WebhookSecret } from '../../src/publishers/webhook/webhook-secret.js';

// The Standard Webhooks spec's published test vector.
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

const newSecret = (bytes = 32) => `whsec_${randomBytes(bytes).toString('base64')}`;

describe('Standard Webhooks signing', () => {
  it('reproduces the spec test vector', () => {
    const secrets = WebhookSecret.parseList([VECTOR.secret]);
    expect(signWebhook('standard', secrets, VECTOR)).toBe(VECTOR.signature);
  });

  it('signs the same bytes whether the body is a string or a Buffer', () => {
    const secrets = WebhookSecret.parseList([VECTOR.secret]);
    expect(signWebhook('standard', secrets, { ...VECTOR, body: Buffer.from(VECTOR.body) })).toBe(
      VECTOR.signature,
    );
  });

  it('is verified by the official standardwebhooks package, unchanged', () => {
    const secret = newSecret();
    const timestamp = Math.floor(Date.now() / 1000);
    const body = '{"amount": 42, "name": "Zoë ✓"}';
    const id = 'b2f7d1a0-4e1c-7c3d-9a51-1f2e3d4c5b6a';
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook('standard', WebhookSecret.parseList([secret]), {
        id,
        timestamp,
        body,
      }),
    };
    expect(new Webhook(secret).verify(body, headers)).toEqual({ amount: 42, name: 'Zoë ✓' });
  });

  it('signs once per secret during rotation, and a receiver knowing either one verifies', () => {
    const current = newSecret();
    const previous = newSecret(24);
    const timestamp = Math.floor(Date.now() / 1000);
    const input = { id: 'msg_rotation', timestamp, body: '{"a": 1}' };
    const header = signWebhook('standard', WebhookSecret.parseList([current, previous]), input);
    expect(header.split(' ')).toHaveLength(2);
    const headers = {
      'webhook-id': input.id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': header,
    };
    for (const secret of [current, previous]) {
      expect(verifyWebhook({ headers, body: input.body, secrets: [secret] }).id).toBe('msg_rotation');
      expect(new Webhook(secret).verify(input.body, headers)).toEqual({ a: 1 });
    }
    expect(() => verifyWebhook({ headers, body: input.body, secrets: [newSecret()] })).toThrow(
      /no signature matches/,
    );
  });

  it('makes Stripe-style t=,v1= headers with one v1 per secret', () => {
    const secrets = WebhookSecret.parseList([newSecret(), newSecret()]);
    const header = signWebhook('stripe', secrets, { id: 'x', timestamp: 1700000000, body: '{}' });
    expect(header).toMatch(/^t=1700000000,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
  });

  it('makes a GitHub-style sha256= header from the current secret', () => {
    const secrets = WebhookSecret.parseList([newSecret(), newSecret()]);
    const header = signWebhook('github', secrets, { id: 'x', timestamp: 1700000000, body: '{}' });
    expect(header).toMatch(/^sha256=[0-9a-f]{64}$/);
  });
});

describe('webhook secrets', () => {
  it('accept whsec_ base64 of 24 to 64 bytes, padded or not', () => {
    expect(WebhookSecret.parse(newSecret(24)).key).toHaveLength(24);
    expect(WebhookSecret.parse(newSecret(64)).key).toHaveLength(64);
    expect(WebhookSecret.parse(newSecret(25).replace(/=+$/, '')).key).toHaveLength(25);
  });

  it.each([
    ['no prefix', randomBytes(32).toString('base64'), /must start with "whsec_"/],
    ['too short', `whsec_${randomBytes(16).toString('base64')}`, /24\.\.64 bytes, got 16 bytes/],
    ['too long', `whsec_${randomBytes(65).toString('base64')}`, /got 65 bytes/],
    ['not base64', 'whsec_this is not base64 at all!!!!!!!', /standard base64/],
    ['empty', 'whsec_', /standard base64/],
  ])('are refused when %s, naming the field and never echoing the value', (_, secret, message) => {
    let error: unknown;
    try {
      WebhookSecret.parseList(['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', secret]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OutboxValidationError);
    expect((error as OutboxValidationError).field).toBe('secrets[1]');
    expect((error as Error).message).toMatch(message);
    if (secret.length > 'whsec_'.length) {
      expect((error as Error).message).not.toContain(secret.slice('whsec_'.length));
    }
  });

  it('refuses an empty list', () => {
    expect(() => WebhookSecret.parseList([])).toThrow(/secrets: needs at least one/);
  });

  it('never shows its value when logged or serialized', () => {
    const text = newSecret();
    const secret = WebhookSecret.parse(text);
    const encoded = text.slice('whsec_'.length);
    for (const shown of [
      inspect(secret),
      JSON.stringify({ secret }),
      String(secret),
      inspect({ s: [secret] }),
    ]) {
      expect(shown).not.toContain(encoded);
    }
  });
});
