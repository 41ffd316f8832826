import { describe, expect, it } from 'vitest';
import { OutboxValidationError } from '../../src/core/foundation/errors.js';
import type { Publisher } from '../../src/core/foundation/publisher.js';
import { DEFAULT_CONCURRENCY, resolveRelayOptions } from '../../src/core/relay/relay-options.js';
import { NatsPublisher } from '../../src/publishers/nats/index.js';
import { WebhookPublisher } from '../../src/publishers/webhook/index.js';

// Options are resolved without a database: `db` is only checked for presence here.
const db = {} as never;
const plain = (concurrency?: number): Publisher => ({
  name: 'p',
  publish: async () => undefined,
  ...(concurrency === undefined ? {} : { concurrency }),
});

describe('a relay whose concurrency is not set', () => {
  it('runs as many publishes as its publishers ask for: 128 with NATS, 32 with a webhook', () => {
    // Constructing the NATS publisher opens no connection (it connects on the first publish).
    const nats = new NatsPublisher({ servers: 'nats://127.0.0.1:1' });
    const webhook = new WebhookPublisher({
      url: 'https://example.com/hook',
      secrets: [`whsec_${Buffer.alloc(32, 7).toString('base64')}`],
    });
    expect(resolveRelayOptions({ db, publishers: { nats } }).concurrency).toBe(128);
    expect(resolveRelayOptions({ db, publishers: { webhook } }).concurrency).toBe(DEFAULT_CONCURRENCY);
    expect(resolveRelayOptions({ db, publishers: { webhook, nats } }).concurrency).toBe(128);
  });

  it('takes the largest ask and never goes below the default; a set concurrency always wins', () => {
    expect(
      resolveRelayOptions({ db, publishers: { a: plain(80), b: plain(8), c: plain() } }).concurrency,
    ).toBe(80);
    expect(resolveRelayOptions({ db, publishers: { a: plain(8) } }).concurrency).toBe(DEFAULT_CONCURRENCY);
    expect(resolveRelayOptions({ db, publishers: { a: plain(80) }, concurrency: 4 }).concurrency).toBe(4);
  });

  it('refuses a publisher asking for a concurrency that is not a positive integer, naming it', () => {
    for (const bad of [0, -1, 2.5, Number.NaN, 20_000]) {
      let thrown: unknown;
      try {
        resolveRelayOptions({ db, publishers: { ok: plain(), odd: plain(bad) } });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(OutboxValidationError);
      expect((thrown as OutboxValidationError).field).toBe('publishers.odd.concurrency');
    }
  });
});
