// Failures a new user must see at the default log level (issue #27): retries summarised per
// destination, and messages waiting for a destination this relay does not serve.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransientPublishError } from '../../src/core/foundation/errors.js';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { createRelay } from '../../src/core/relay/relay.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { ManualClock, RecordingPublisher } from '../support/recording-publisher.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.close());

async function empty(): Promise<void> {
  await t.pool.query(`delete from "${t.schema}".messages`);
}

describe('a destination whose attempts fail', () => {
  it('is reported at warn as it starts failing, summarised every 30 s, and its recovery at info', async () => {
    await empty();
    const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
    const outbox = createOutbox({ schema: t.schema });
    await outbox.addMany(t.db, [
      { type: 'invoice.paid', destination: 'webhook', payload: { n: 1 } },
      { type: 'invoice.paid', destination: 'webhook', payload: { n: 2 } },
    ]);
    let up = false;
    const webhook = new RecordingPublisher('webhook', () => {
      if (!up) throw new TransientPublishError('webhook to http://hooks.example.com/ answered 503: "busy"');
    });
    const logger = new RecordingLogger();
    const relay = createRelay({
      db: t.db,
      schema: t.schema,
      publishers: { webhook },
      logger,
      clock,
      retry: { baseDelayMs: 1_000, jitter: 0 },
    });
    expect(await relay.runOnce()).toMatchObject({ retried: 2 });
    clock.advance(31_000);
    expect(await relay.runOnce()).toMatchObject({ retried: 2 });
    up = true;
    clock.advance(31_000);
    expect(await relay.runOnce()).toMatchObject({ delivered: 2 });
    await relay.stop();
    expect(
      logger
        .at('info')
        .filter((l) => /webhook: /.test(l.msg))
        .map((l) => [l.level, l.msg]),
    ).toEqual([
      [
        'warn',
        'webhook: an attempt failed, retrying (a summary follows every 30 s while attempts fail), last: webhook to http://hooks.example.com/ answered 503: "busy"',
      ],
      [
        'warn',
        'webhook: 2 attempts failed in the last 31 s, last: webhook to http://hooks.example.com/ answered 503: "busy"',
      ],
      ['info', 'webhook: delivering again after 4 failed attempts in 62 s'],
    ]);
  });
});

describe('due messages for a destination no publisher of the relay serves', () => {
  it('are warned about once, at the first claim, with the fix for the default destination', async () => {
    await empty();
    const outbox = createOutbox({ schema: t.schema });
    // The README's first snippet (no destination: "default") with its webhook section's relay.
    await outbox.add(t.db, { type: 'invoice.paid', payload: { invoiceId: 'inv_1' } });
    await outbox.add(t.db, { type: 'invoice.paid', payload: { invoiceId: 'inv_2' } });
    // Served through its route, and not due yet: neither is reported.
    await outbox.add(t.db, { type: 'x', destination: 'webhook:acme', payload: {} });
    await outbox.add(t.db, {
      type: 'x',
      destination: 'nats',
      payload: {},
      availableAt: new Date(Date.now() + 3_600_000),
    });
    const logger = new RecordingLogger();
    const webhook = new RecordingPublisher('webhook');
    const relay = createRelay({ db: t.db, schema: t.schema, publishers: { webhook }, logger });
    expect(await relay.runOnce()).toMatchObject({ claimed: 1, delivered: 1 });
    expect(await relay.runOnce()).toMatchObject({ claimed: 0 });
    await relay.stop();
    const warnings = logger.at('warn').map((l) => l.msg);
    expect(warnings).toEqual([
      '2 due messages wait for destination "default", which no publisher of this relay serves (publishers: webhook); ' +
        'they stay pending until a relay serving it runs: messages added without a destination go to "default": ' +
        'give add() a destination, or register the publisher as default too (publishers: { webhook, default: webhook })',
    ]);
  });

  it('names the route of a served-nowhere destination, in the words the caller passed', async () => {
    await empty();
    await createOutbox({ schema: t.schema }).add(t.db, {
      type: 'x',
      destination: 'routeros:tower-3',
      payload: {},
    });
    const logger = new RecordingLogger();
    const relay = createRelay({
      db: t.db,
      schema: t.schema,
      publishers: { console: new RecordingPublisher('console') },
      logger,
      hints: { unservedDestination: 'add its type to OUTBOX_PUBLISHER_TYPE' },
    });
    await relay.runOnce();
    await relay.stop();
    expect(logger.at('warn').map((l) => l.msg)).toEqual([
      expect.stringMatching(
        /^1 due message waits for destination "routeros:tower-3" \(route "routeros"\), .*: add its type to OUTBOX_PUBLISHER_TYPE$/,
      ),
    ]);
  });

  it('says nothing when the relay claims every destination (deadLetterUnroutable)', async () => {
    await empty();
    await createOutbox({ schema: t.schema }).add(t.db, { type: 'x', payload: {} });
    const logger = new RecordingLogger();
    const relay = createRelay({
      db: t.db,
      schema: t.schema,
      publishers: { webhook: new RecordingPublisher('webhook') },
      logger,
      deadLetterUnroutable: true,
    });
    expect(await relay.runOnce()).toMatchObject({ dead: 1 });
    await relay.stop();
    expect(logger.at('warn').filter((l) => /due messages wait/.test(l.msg))).toEqual([]);
  });
});
