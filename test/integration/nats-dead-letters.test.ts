import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { natsTestServer } from '../../bench/support/nats-server.js';
import { loadConfig } from '../../src/cli/config/load-config.js';
import { replayDead } from '../../src/core/maintenance/dead-letters.js';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { createRelay } from '../../src/core/relay/relay.js';
import { forwardDeadLetters, NatsPublisher } from '../../src/publishers/nats/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { readStream } from '../support/nats-stream.js';
import { recordingLogger } from '../support/publisher-contract.js';

let t: TestDatabase;
let server: Awaited<ReturnType<typeof natsTestServer>>;
beforeAll(async () => {
  t = await createTestDatabase();
  server = await natsTestServer();
});
afterAll(async () => {
  await t.close();
  await server.close();
});

/** A stream of its own on `<prefix>.>`. */
async function stream(): Promise<{ name: string; prefix: string }> {
  const id = randomBytes(4).toString('hex');
  const nc = await connect({ servers: server.url });
  await (await jetstreamManager(nc)).streams.add({ name: `D_${id}`, subjects: [`d${id}.>`] });
  await nc.close();
  return { name: `D_${id}`, prefix: `d${id}` };
}

async function dyingMessage(): Promise<string> {
  // No stream listens on this subject: the publish fails and one attempt is all it has.
  const [id] = await createOutbox({ schema: t.schema }).addMany(t.db, [
    { type: 'provision', destination: 'nats:nowhere.provision', payload: { tenant: 'acme' }, maxAttempts: 1 },
  ]);
  return id!;
}

it('publishes each death once to the dead-letter subject, with reason and attempts; the table stays the truth', async () => {
  const { name, prefix } = await stream();
  const nats = new NatsPublisher({ servers: server.url, timeoutMs: 1_000 });
  const relay = createRelay({ db: t.db, schema: t.schema, publishers: { nats }, closePublishers: false });
  const dlq = forwardDeadLetters(relay, nats, { subject: `${prefix}.dlq` });
  try {
    const id = await dyingMessage();
    await relay.runOnce();
    await dlq.idle();
    expect(dlq).toMatchObject({ forwarded: 1, failed: 0 });
    const [copy] = await readStream(server.url, name);
    expect(copy!.subject).toBe(`${prefix}.dlq`);
    expect(copy!.msgId).toBe(`${id}:dead:1`);
    expect(copy!.headers).toMatchObject({
      'Outbox-Attempts': '1',
      'Outbox-Message-Id': id,
      'Outbox-Type': 'provision',
    });
    expect(copy!.headers['Outbox-Dead-Reason']).toBe('permanent');
    expect(copy!.headers['Outbox-Last-Error']).toContain('no JetStream stream is bound to subject');
    expect(JSON.parse(copy!.body)).toEqual({ tenant: 'acme' });
    const { rows } = await t.pool.query(`select status from "${t.schema}".messages where message_id = $1`, [
      id,
    ]);
    expect(rows[0].status).toBe('dead');

    // Replayed, it dies again with the same attempts: the same Nats-Msg-Id, stored once.
    await replayDead(t.db, { type: 'provision' }, { schema: t.schema });
    await relay.runOnce();
    await dlq.idle();
    expect(dlq.forwarded).toBe(2);
    expect(await readStream(server.url, name)).toHaveLength(1);
  } finally {
    dlq.detach();
    await relay.stop();
    await nats.close();
  }
});

it('logs and counts a copy that cannot be published, and the message still dies in the table', async () => {
  const nats = new NatsPublisher({ servers: server.url, timeoutMs: 1_000 });
  const relay = createRelay({ db: t.db, schema: t.schema, publishers: { nats }, closePublishers: false });
  const logger = recordingLogger();
  const dlq = forwardDeadLetters(relay, nats, { subject: 'no.stream.here.dlq', logger });
  try {
    const id = await dyingMessage();
    const round = await relay.runOnce();
    expect(round.dead).toBe(1);
    await dlq.idle();
    expect(dlq).toMatchObject({ forwarded: 0, failed: 1 });
    const line = logger.lines.find((l) => l.level === 'error');
    expect(line?.msg).toContain('could not publish the dead-letter copy');
    expect(line?.obj).toMatchObject({ messageId: id });
    const { rows } = await t.pool.query(`select status from "${t.schema}".messages where message_id = $1`, [
      id,
    ]);
    expect(rows[0].status).toBe('dead');
  } finally {
    dlq.detach();
    await relay.stop();
    await nats.close();
  }
});

it('needs the nats publisher in the binary', () => {
  expect(() => loadConfig({ NATS_DEAD_LETTER_SUBJECT: 'provisioning.dlq' })).toThrow(
    'NATS_DEAD_LETTER_SUBJECT needs nats in OUTBOX_PUBLISHER_TYPE',
  );
  expect(() => loadConfig({ NATS_DEAD_LETTER_SUBJECT: 'provisioning.>' })).toThrow(
    'NATS_DEAD_LETTER_SUBJECT "provisioning.>" has a wildcard token',
  );
});
