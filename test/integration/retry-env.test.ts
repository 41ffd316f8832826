import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/cli/config/load-config.js';
import { relayOptions } from '../../src/cli/runtime/cli-jobs.js';
import { TransientPublishError } from '../../src/core/foundation/errors.js';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { createRelay } from '../../src/core/relay/relay.js';
import { RETRY_POLICY_BOUNDS } from '../../src/core/relay/retry-policy.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { RecordingPublisher } from '../support/recording-publisher.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.close());

// Seed 002: 10 s doubling, +-20%, at most 300 s, 5 attempts.
const SEED_002 = { RETRY_BASE_MS: '10000', RETRY_MAX_MS: '300000', RETRY_JITTER: '0.2', MAX_RETRIES: '5' };

describe('retry schedule from env', () => {
  it('waits RETRY_BASE_MS +- RETRY_JITTER after the first failure, and dies after MAX_RETRIES', async () => {
    const { config } = loadConfig({ ...SEED_002, OUTBOX_SCHEMA: t.schema, DATABASE_URL: t.url });
    const failing = new RecordingPublisher('console', () => {
      throw new TransientPublishError('receiver down');
    });
    const relay = createRelay({ db: t.db, ...relayOptions(config), publishers: { console: failing } });
    await createOutbox({ schema: t.schema }).add(t.db, {
      type: 'seed.retry',
      destination: 'console',
      payload: {},
    });
    await relay.runOnce();
    const { rows } = await t.pool.query(
      `select extract(epoch from available_at - now()) * 1000 as wait_ms, max_attempts
         from "${t.schema}".messages`,
    );
    expect(Number(rows[0].wait_ms)).toBeGreaterThan(8_000 - 1_000);
    expect(Number(rows[0].wait_ms)).toBeLessThanOrEqual(12_000);
    await relay.stop();
    expect(relayOptions(config).retry).toEqual({ baseDelayMs: 10_000, maxDelayMs: 300_000, jitter: 0.2 });
    expect(relayOptions(config).maxAttempts).toBe(5);
  });

  it('validates each value against the library’s bounds, and the order between them', () => {
    expect(() => loadConfig({ RETRY_JITTER: '1.5' })).toThrow(
      `RETRY_JITTER must be a number ${RETRY_POLICY_BOUNDS.jitter.min}..${RETRY_POLICY_BOUNDS.jitter.max}, got "1.5"`,
    );
    expect(() => loadConfig({ RETRY_BASE_MS: '-1' })).toThrow('RETRY_BASE_MS must be an integer 0..');
    expect(() => loadConfig({ RETRY_BASE_MS: '10000', RETRY_MAX_MS: '5000' })).toThrow(
      'RETRY_MAX_MS must be >= RETRY_BASE_MS, got 5000 < 10000',
    );
  });
});
