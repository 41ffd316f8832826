import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, credsAuthenticator, type NatsConnection, nkeys } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PermanentPublishError, TransientPublishError } from '../../src/core/foundation/errors.js';
import { NatsPublisher, type NatsPublisherOptions } from '../../src/publishers/nats/index.js';
import { natsOperatorSetup } from '../support/nats-creds.js';
import { makeTestMessage, testContext } from '../support/publisher-contract.js';
import { type NatsServer, startNatsServer } from '../../bench/support/nats-server.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/tls/${name}`, import.meta.url));

let server: NatsServer;
let admin: NatsConnection;
let jsm: JetStreamManager;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  server = await startNatsServer({ config: 'max_payload: 4096' });
  admin = await connect({ servers: server.url });
  jsm = await jetstreamManager(admin);
});
afterAll(async () => {
  await admin?.drain();
  await server?.close();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function publisher(options: Partial<NatsPublisherOptions> = {}, url = server.url): NatsPublisher {
  const p = new NatsPublisher({ servers: url, timeoutMs: 2_000, ...options });
  cleanups.push(() => p.close());
  return p;
}

/** A stream of this test's own on `<prefix>.>`. */
async function stream(config: { max_msg_size?: number } = {}): Promise<{ name: string; prefix: string }> {
  const id = randomBytes(4).toString('hex');
  const name = `S_${id}`;
  await jsm.streams.add({ name, subjects: [`p${id}.>`], ...config });
  cleanups.push(async () => void (await jsm.streams.delete(name)));
  return { name, prefix: `p${id}` };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected the publish to fail');
    },
    (error: Error) => error,
  );
}

describe('NatsPublisher against a real nats-server', () => {
  it('publishes the stored body with Nats-Msg-Id, outbox headers and the message headers, and returns the PubAck', async () => {
    const { name, prefix } = await stream();
    const message = makeTestMessage({
      destination: `nats:${prefix}.orders.created`,
      tenantId: 'wisp-7',
      orderingKey: 'order-42',
      headers: { 'trace-id': 'abc123' },
    });
    const result = await publisher().publish(message, testContext());
    expect(result).toEqual({ stream: name, seq: 1, duplicate: false });

    const stored = await jsm.streams.getMessage(name, { seq: 1 });
    expect(stored?.subject).toBe(`${prefix}.orders.created`);
    expect(new TextDecoder().decode(stored?.data)).toBe(message.body);
    expect(stored?.header.get('Nats-Msg-Id')).toBe(message.messageId);
    expect(stored?.header.get('Outbox-Type')).toBe('invoice.paid');
    expect(stored?.header.get('Outbox-Kind')).toBe('event');
    expect(stored?.header.get('Outbox-Tenant-Id')).toBe('wisp-7');
    expect(stored?.header.get('Outbox-Ordering-Key')).toBe('order-42');
    expect(stored?.header.get('Outbox-Header-trace-id')).toBe('abc123');
  });

  it('reports a re-publish of the same message id as duplicate and the stream holds one copy', async () => {
    const { name, prefix } = await stream();
    const nats = publisher();
    const message = makeTestMessage({ destination: `nats:${prefix}.x` });
    await nats.publish(message, testContext());
    const again = await nats.publish(message, testContext());
    expect(again).toEqual({ stream: name, seq: 1, duplicate: true });
    expect((await jsm.streams.info(name)).state.messages).toBe(1);
    // A different message with the same ordering key is not a duplicate (ids, not aggregates).
    const next = await nats.publish(
      makeTestMessage({ destination: `nats:${prefix}.x`, orderingKey: message.orderingKey }),
      testContext(),
    );
    expect(next).toMatchObject({ seq: 2, duplicate: false });
  });

  it('sends destination "nats" to <subjectPrefix>.<type>, or to the subject function', async () => {
    const { name, prefix } = await stream();
    await publisher({ subjectPrefix: prefix }).publish(
      makeTestMessage({ destination: 'nats', type: 'invoice.paid' }),
      testContext(),
    );
    await publisher({ subject: (m) => `${prefix}.tenant.${m.tenantId}` }).publish(
      makeTestMessage({ destination: 'nats', tenantId: 't1' }),
      testContext(),
    );
    expect((await jsm.streams.getMessage(name, { seq: 1 }))?.subject).toBe(`${prefix}.invoice.paid`);
    expect((await jsm.streams.getMessage(name, { seq: 2 }))?.subject).toBe(`${prefix}.tenant.t1`);
  });

  it('dead-letters a subject no stream is bound to, naming the subject', async () => {
    const error = await failure(
      publisher().publish(makeTestMessage({ destination: 'nats:nowhere.at.all' }), testContext()),
    );
    expect(error).toBeInstanceOf(PermanentPublishError);
    expect(error.message).toContain('no JetStream stream is bound to subject "nowhere.at.all"');
  });

  it("dead-letters a message over the server's max_payload, naming the sizes and subject", async () => {
    const { prefix } = await stream();
    const big = JSON.stringify({ blob: 'x'.repeat(5_000) });
    const error = await failure(
      publisher().publish(makeTestMessage({ destination: `nats:${prefix}.big`, body: big }), testContext()),
    );
    expect(error).toBeInstanceOf(PermanentPublishError);
    expect(error.message).toMatch(
      /bytes \(body \+ headers\) to "p\w+\.big" is over the server's max_payload of 4096 bytes/,
    );
  });

  it("dead-letters a message over the stream's max_msg_size with JetStream's reason", async () => {
    const { prefix } = await stream({ max_msg_size: 200 });
    const error = await failure(
      publisher().publish(
        makeTestMessage({ destination: `nats:${prefix}.big`, body: JSON.stringify('y'.repeat(500)) }),
        testContext(),
      ),
    );
    expect(error).toBeInstanceOf(PermanentPublishError);
    expect(error.message).toContain('message size exceeds maximum allowed');
    expect(error.message).toContain('err_code 10054');
  });

  it('dead-letters a subject bound to another stream than expectStream', async () => {
    const { prefix } = await stream();
    const error = await failure(
      publisher({ expectStream: 'ORDERS' }).publish(
        makeTestMessage({ destination: `nats:${prefix}.a` }),
        testContext(),
      ),
    );
    expect(error).toBeInstanceOf(PermanentPublishError);
    expect(error.message).toContain('expected stream "ORDERS"');
  });

  it('dead-letters an invalid subject or header without contacting the server', async () => {
    const nats = publisher();
    for (const destination of ['nats:orders.*', 'nats:orders..x', 'nats:has space']) {
      expect(await failure(nats.publish(makeTestMessage({ destination }), testContext()))).toBeInstanceOf(
        PermanentPublishError,
      );
    }
    const error = await failure(
      nats.publish(makeTestMessage({ destination: 'nats:a.b', headers: { 'bad name': 'x' } }), testContext()),
    );
    expect(error).toBeInstanceOf(PermanentPublishError);
    expect(error.message).toContain('"bad name"');
  });

  it('drains on close: publishes in flight complete, later ones fail as retryable', async () => {
    const { name, prefix } = await stream();
    const nats = publisher();
    await nats.connect();
    const inFlight = Array.from({ length: 200 }, () =>
      nats.publish(makeTestMessage({ destination: `nats:${prefix}.x` }), testContext()),
    );
    await nats.close();
    expect((await Promise.allSettled(inFlight)).filter((r) => r.status === 'rejected')).toEqual([]);
    expect((await jsm.streams.info(name)).state.messages).toBe(200);
    const after = await failure(
      nats.publish(makeTestMessage({ destination: `nats:${prefix}.x` }), testContext()),
    );
    expect(after).toBeInstanceOf(TransientPublishError);
  });

  it('rejects invalid options naming the field', () => {
    expect(() => new NatsPublisher({ servers: [] })).toThrow(/servers/);
    expect(() => new NatsPublisher({ servers: 'x', user: 'a' })).toThrow(/user and pass/);
    expect(() => new NatsPublisher({ servers: 'x', token: 't', user: 'a', pass: 'b' })).toThrow(
      /one authentication method/,
    );
    expect(() => new NatsPublisher({ servers: 'x', credsFile: '/nonexistent.creds' })).toThrow(/credsFile/);
    expect(() => new NatsPublisher({ servers: 'x', subjectPrefix: 'a b' })).toThrow(/subjectPrefix/);
    expect(() => new NatsPublisher({ servers: 'x', timeoutMs: 0 })).toThrow(/timeoutMs/);
  });
});

describe('NatsPublisher when the server restarts or JetStream is not up', () => {
  it('fails as retryable while the server is down and delivers on the same publisher once it is back', async () => {
    const own = await startNatsServer();
    cleanups.push(() => own.close());
    const c = await connect({ servers: own.url });
    await (await jetstreamManager(c)).streams.add({ name: 'R', subjects: ['r.>'] });
    await c.close();
    const nats = publisher({ timeoutMs: 500, reconnectWaitMs: 50 }, own.url);
    await nats.publish(makeTestMessage({ destination: 'nats:r.x' }), testContext());

    await own.stop();
    const down = await failure(nats.publish(makeTestMessage({ destination: 'nats:r.x' }), testContext()));
    expect(down).toBeInstanceOf(TransientPublishError);
    expect(down.message).toContain('no PubAck');

    await own.start();
    const deadline = Date.now() + 15_000;
    for (;;) {
      const outcome = await nats.publish(makeTestMessage({ destination: 'nats:r.x' }), testContext()).then(
        (r) => r,
        (e: unknown) => e,
      );
      if (!(outcome instanceof Error)) {
        expect(outcome).toMatchObject({ stream: 'R', seq: 2 });
        break;
      }
      expect(outcome).toBeInstanceOf(TransientPublishError);
      if (Date.now() > deadline) throw outcome;
    }
  });

  it('fails as retryable (503 no responders, lookup unanswered) when JetStream is not running', async () => {
    const plain = await startNatsServer({ jetstream: false });
    cleanups.push(() => plain.close());
    const error = await failure(
      publisher({}, plain.url).publish(makeTestMessage({ destination: 'nats:r.x' }), testContext()),
    );
    expect(error).toBeInstanceOf(TransientPublishError);
    expect(error.message).toContain('503 no responders');
    expect(error.message).toContain('stream lookup failed');
  });

  it('fails as retryable, without the secret in the error, when the server cannot be reached or refuses the token', async () => {
    const own = await startNatsServer({ config: 'authorization { token: "right-token-123" }' });
    cleanups.push(() => own.close());
    const wrong = await failure(
      publisher({ token: 'wrong-token-456' }, own.url).publish(
        makeTestMessage({ destination: 'nats:r.x' }),
        testContext(),
      ),
    );
    expect(wrong).toBeInstanceOf(TransientPublishError);
    expect(String(wrong.message)).not.toContain('wrong-token-456');
    const unreachable = await failure(
      publisher({ connectTimeoutMs: 500 }, 'nats://127.0.0.1:1').publish(
        makeTestMessage({ destination: 'nats:r.x' }),
        testContext(),
      ),
    );
    expect(unreachable).toBeInstanceOf(TransientPublishError);
  });
});

describe('NatsPublisher authentication, permissions and TLS', () => {
  const userSeed = nkeys.createUser();
  let secured: NatsServer;
  beforeAll(async () => {
    secured = await startNatsServer({
      config: `authorization {
        users = [
          { user: relay, password: "pa55-word", permissions: { publish: { allow: ["ok.>", "$JS.API.>"], deny: ["secret.>"] } } }
          { nkey: ${userSeed.getPublicKey()} }
        ]
      }`,
    });
    const c = await connect({ servers: secured.url, user: 'relay', pass: 'pa55-word' });
    const m = await jetstreamManager(c);
    await m.streams.add({ name: 'OK', subjects: ['ok.>'] });
    await m.streams.add({ name: 'SECRET', subjects: ['secret.>'] });
    await c.close();
  });
  afterAll(() => secured?.close());

  it('publishes with user/pass and dead-letters a subject the user may not publish to, naming it', async () => {
    const nats = publisher({ user: 'relay', pass: 'pa55-word' }, secured.url);
    expect(await nats.publish(makeTestMessage({ destination: 'nats:ok.a' }), testContext())).toMatchObject({
      stream: 'OK',
    });
    const error = await failure(
      nats.publish(makeTestMessage({ destination: 'nats:secret.a' }), testContext()),
    );
    expect(error).toBeInstanceOf(PermanentPublishError);
    expect(error.message).toContain('permission denied publishing to "secret.a"');
    expect(error.message).not.toContain('pa55-word');
  });

  it('authenticates with an NKey seed', async () => {
    const nats = publisher({ nkeySeed: new TextDecoder().decode(userSeed.getSeed()) }, secured.url);
    expect(await nats.publish(makeTestMessage({ destination: 'nats:ok.n' }), testContext())).toMatchObject({
      stream: 'OK',
    });
  });

  it('connects over TLS verifying the server against the given CA, and refuses another CA as retryable', async () => {
    const tls = await startNatsServer({
      scheme: 'tls',
      config: `tls { cert_file: ${JSON.stringify(fixture('router-cert.pem'))}, key_file: ${JSON.stringify(fixture('router-key.pem'))} }`,
    });
    cleanups.push(() => tls.close());
    const c = await connect({ servers: tls.url, tls: { caFile: fixture('router-cert.pem') } });
    await (await jetstreamManager(c)).streams.add({ name: 'T', subjects: ['t.>'] });
    await c.close();
    const good = publisher({ tls: { caFile: fixture('router-cert.pem') } }, tls.url);
    expect(await good.publish(makeTestMessage({ destination: 'nats:t.a' }), testContext())).toMatchObject({
      stream: 'T',
    });
    const wrongCa = publisher(
      { tls: { caFile: fixture('other-cert.pem') }, connectTimeoutMs: 1_000 },
      tls.url,
    );
    expect(
      await failure(wrongCa.publish(makeTestMessage({ destination: 'nats:t.a' }), testContext())),
    ).toBeInstanceOf(TransientPublishError);
  });
});

describe('NatsPublisher with a .creds file (operator mode)', () => {
  it('authenticates with the JWT and seed of a creds file', async () => {
    const { serverConfig, creds } = natsOperatorSetup();
    const own = await startNatsServer({ config: serverConfig });
    cleanups.push(() => own.close());
    const credsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nats-creds-')), 'relay.creds');
    fs.writeFileSync(credsFile, creds);
    const c = await connect({
      servers: own.url,
      authenticator: credsAuthenticator(new TextEncoder().encode(creds)),
    });
    await (await jetstreamManager(c)).streams.add({ name: 'CREDS', subjects: ['creds.>'] });
    await c.close();
    const nats = publisher({ credsFile }, own.url);
    expect(await nats.publish(makeTestMessage({ destination: 'nats:creds.a' }), testContext())).toMatchObject(
      {
        stream: 'CREDS',
        seq: 1,
      },
    );
    // Without credentials the same server refuses: the creds file is what let the publisher in.
    const anonymous = await failure(
      publisher({ connectTimeoutMs: 1_000 }, own.url).publish(
        makeTestMessage({ destination: 'nats:creds.a' }),
        testContext(),
      ),
    );
    expect(anonymous).toBeInstanceOf(TransientPublishError);
  });
});
