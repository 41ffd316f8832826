import { randomBytes } from 'node:crypto';
import { DiscardPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll } from 'vitest';
import { NatsPublisher } from '../../src/publishers/nats/nats-publisher.js';
import { makeTestMessage, publisherContract } from '../support/publisher-contract.js';
import { natsTestServer } from '../../bench/support/nats-server.js';

let server: Awaited<ReturnType<typeof natsTestServer>>;
let admin: NatsConnection;
beforeAll(async () => {
  server = await natsTestServer();
  admin = await connect({ servers: server.url });
});
afterAll(async () => {
  await admin?.drain();
  await server?.close();
});

publisherContract('nats', async () => {
  const id = randomBytes(4).toString('hex');
  const jsm = await jetstreamManager(admin);
  await jsm.streams.add({ name: `C_${id}`, subjects: [`c${id}.>`] });
  // A full stream that refuses new messages: JetStream answers 503 "maximum messages exceeded".
  await jsm.streams.add({ name: `F_${id}`, subjects: [`f${id}.>`], max_msgs: 1, discard: DiscardPolicy.New });
  await jetstream(admin).publish(`f${id}.x`, 'fill');
  // A plain NATS subscriber that never answers: the publish waits for a PubAck that never comes.
  const silent = admin.subscribe(`h${id}.>`);
  let subject = `c${id}.events`;
  return {
    publisher: new NatsPublisher({ servers: server.url, timeoutMs: 10_000 }),
    message: () => makeTestMessage({ destination: `nats:${subject}` }),
    failTransiently: () => {
      subject = `f${id}.x`;
    },
    failPermanently: () => {
      subject = `none${id}.x`;
    },
    hang: () => {
      subject = `h${id}.x`;
    },
    cleanup: async () => {
      silent.unsubscribe();
      await jsm.streams.delete(`C_${id}`);
      await jsm.streams.delete(`F_${id}`);
    },
  };
});
