import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { signWebhook } from '../../src/publishers/webhook/sign.js';
import { verifyWebhook, WebhookVerificationError } from '../../src/publishers/webhook/verify-webhook.js';
import { WebhookSecret } from '../../src/publishers/webhook/webhook-secret.js';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const NOW = new Date('2030-01-01T00:00:00Z');
const NOW_S = NOW.getTime() / 1000;
const CLOCK = { now: () => NOW };
const BODY = '{"type": "invoice.paid", "amount": 42}';

function signed(overrides: { timestamp?: number; body?: string; id?: string } = {}) {
  const timestamp = overrides.timestamp ?? NOW_S;
  const id = overrides.id ?? 'msg_1';
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signWebhook('standard', WebhookSecret.parseList([SECRET]), {
      id,
      timestamp,
      body: overrides.body ?? BODY,
    }),
  };
}

function reason(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof WebhookVerificationError) return e.reason;
    throw e;
  }
  return undefined;
}

describe('verifyWebhook', () => {
  it('accepts an authentic webhook and returns its id and timestamp', () => {
    expect(verifyWebhook({ headers: signed(), body: BODY, secrets: [SECRET], clock: CLOCK })).toEqual({
      id: 'msg_1',
      timestamp: NOW_S,
    });
  });

  it('accepts a Buffer body, a fetch Headers object and mixed-case header names', () => {
    const headers = new Headers(signed());
    expect(verifyWebhook({ headers, body: Buffer.from(BODY), secrets: SECRET, clock: CLOCK }).id).toBe(
      'msg_1',
    );
    const upper = Object.fromEntries(Object.entries(signed()).map(([k, v]) => [k.toUpperCase(), v]));
    expect(verifyWebhook({ headers: upper, body: BODY, secrets: SECRET, clock: CLOCK }).id).toBe('msg_1');
  });

  it('rejects a body changed by a single byte (re-serialized JSON included)', () => {
    expect(
      reason(() =>
        verifyWebhook({ headers: signed(), body: BODY.replace('42', '43'), secrets: [SECRET], clock: CLOCK }),
      ),
    ).toBe('no_matching_signature');
    const reserialized = JSON.stringify(JSON.parse(BODY));
    expect(
      reason(() => verifyWebhook({ headers: signed(), body: reserialized, secrets: [SECRET], clock: CLOCK })),
    ).toBe('no_matching_signature');
  });

  it('rejects a changed webhook-id or timestamp (both are signed)', () => {
    const headers = { ...signed(), 'webhook-id': 'msg_2' };
    expect(reason(() => verifyWebhook({ headers, body: BODY, secrets: [SECRET], clock: CLOCK }))).toBe(
      'no_matching_signature',
    );
    const later = { ...signed(), 'webhook-timestamp': String(NOW_S + 1) };
    expect(reason(() => verifyWebhook({ headers: later, body: BODY, secrets: [SECRET], clock: CLOCK }))).toBe(
      'no_matching_signature',
    );
  });

  it('rejects a timestamp outside the tolerance either way, default 5 minutes', () => {
    const verify = (timestamp: number, toleranceSeconds?: number) =>
      reason(() =>
        verifyWebhook({
          headers: signed({ timestamp }),
          body: BODY,
          secrets: [SECRET],
          clock: CLOCK,
          ...(toleranceSeconds === undefined ? {} : { toleranceSeconds }),
        }),
      );
    expect(verify(NOW_S - 300)).toBeUndefined();
    expect(verify(NOW_S - 301)).toBe('timestamp_too_old');
    expect(verify(NOW_S + 301)).toBe('timestamp_too_new');
    expect(verify(NOW_S - 3000, 3600)).toBeUndefined();
  });

  it('rejects missing headers, a non-numeric timestamp and a wrong secret', () => {
    const { 'webhook-signature': _, ...unsigned } = signed();
    expect(
      reason(() => verifyWebhook({ headers: unsigned, body: BODY, secrets: [SECRET], clock: CLOCK })),
    ).toBe('missing_header');
    const bad = { ...signed(), 'webhook-timestamp': '12abc' };
    expect(reason(() => verifyWebhook({ headers: bad, body: BODY, secrets: [SECRET], clock: CLOCK }))).toBe(
      'invalid_timestamp',
    );
    const other = `whsec_${randomBytes(32).toString('base64')}`;
    expect(
      reason(() => verifyWebhook({ headers: signed(), body: BODY, secrets: [other], clock: CLOCK })),
    ).toBe('no_matching_signature');
  });

  it('accepts any one of several space-separated signatures, ignoring unknown versions', () => {
    const headers = signed();
    headers['webhook-signature'] = `v1a,AAAA v1,bm90IGl0 ${headers['webhook-signature']} garbage`;
    expect(verifyWebhook({ headers, body: BODY, secrets: [SECRET], clock: CLOCK }).id).toBe('msg_1');
  });

  it('never puts a secret or the expected signature in its error', () => {
    const headers = { ...signed(), 'webhook-signature': 'v1,AAAA' };
    const expected = signed()['webhook-signature'].slice(3);
    try {
      verifyWebhook({ headers, body: BODY, secrets: [SECRET], clock: CLOCK });
      expect.unreachable();
    } catch (e) {
      expect(String((e as Error).message)).not.toContain(expected);
      expect(String((e as Error).message)).not.toContain(SECRET.slice(6));
    }
  });

  it('verifies the Stripe-style scheme as Stripe does (HMAC keyed by the secret string over t.body)', () => {
    const t = NOW_S;
    const hex = createHmac('sha256', SECRET).update(`${t}.${BODY}`).digest('hex');
    const headers = { 'stripe-signature': `t=${t},v1=${hex}` };
    expect(
      verifyWebhook({ headers, body: BODY, secrets: [SECRET], scheme: 'stripe', clock: CLOCK }).timestamp,
    ).toBe(t);
    const old = { 'stripe-signature': `t=${t - 600},v1=${hex}` };
    expect(
      reason(() =>
        verifyWebhook({ headers: old, body: BODY, secrets: [SECRET], scheme: 'stripe', clock: CLOCK }),
      ),
    ).toBe('timestamp_too_old');
  });

  it('verifies the GitHub-style scheme as GitHub does (sha256= HMAC of the body)', () => {
    const hex = createHmac('sha256', SECRET).update(BODY).digest('hex');
    const headers = { 'x-hub-signature-256': `sha256=${hex}` };
    expect(verifyWebhook({ headers, body: BODY, secrets: [SECRET], scheme: 'github' })).toEqual({
      id: undefined,
      timestamp: undefined,
    });
    expect(
      reason(() => verifyWebhook({ headers, body: `${BODY} `, secrets: [SECRET], scheme: 'github' })),
    ).toBe('no_matching_signature');
  });
});

// Checked by `npm run typecheck`: the standard scheme refuses a request without webhook-id,
// so its id is a string, not `string | undefined` (a receiver deduplicating on it needs no `!`).
describe('verifyWebhook types', () => {
  it('narrows id and timestamp for the standard scheme only', () => {
    const standard = verifyWebhook({ headers: signed(), body: BODY, secrets: [SECRET], clock: CLOCK });
    expectTypeOf(standard.id).toEqualTypeOf<string>();
    expectTypeOf(standard.timestamp).toEqualTypeOf<number>();
    const explicit = verifyWebhook({
      headers: signed(),
      body: BODY,
      secrets: SECRET,
      clock: CLOCK,
      scheme: 'standard',
    });
    expectTypeOf(explicit.id).toEqualTypeOf<string>();
    const other = (scheme: 'github') => verifyWebhook({ headers: {}, body: BODY, secrets: SECRET, scheme });
    expectTypeOf<ReturnType<typeof other>['id']>().toEqualTypeOf<string | undefined>();
    const seen = new Set<string>([standard.id]);
    expect(seen.has('msg_1')).toBe(true);
  });
});
