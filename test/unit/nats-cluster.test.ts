import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TransientPublishError } from '../../src/core/foundation/errors.js';
import { NatsPublisher } from '../../src/publishers/nats/nats-publisher.js';
import { makeTestMessage, testContext } from '../support/publisher-contract.js';
import { freePort, type NatsServer, startNatsServer } from '../../bench/support/nats-server.js';
import { waitFor } from '../support/recording-publisher.js';

// A three-node JetStream cluster, so a stream can exist (the meta leader knows it) while
// nobody answers for it: its only replica's server is down, as during a leader election.
const servers: NatsServer[] = [];
beforeAll(async () => {
  const routes = await Promise.all([freePort(), freePort(), freePort()]);
  const routeList = routes.map((p) => `"nats-route://127.0.0.1:${p}"`).join(', ');
  const started = await Promise.all(
    ['a', 'b', 'c'].map((name, i) =>
      startNatsServer({
        config: `server_name: ${name}
          server_tags: ["${name}"]
          cluster { name: outbox, listen: "127.0.0.1:${routes[i]}", routes: [${routeList}] }`,
      }),
    ),
  );
  servers.push(...started);
});
afterAll(async () => {
  for (const s of servers) await s.close();
});

it("fails as retryable while a stream exists but its only replica's server is down", async () => {
  const [a, b] = servers as [NatsServer, NatsServer];
  const admin = await connect({ servers: a.url });
  const jsm = await jetstreamManager(admin, { checkAPI: false });
  await waitFor(
    async () =>
      jsm.streams
        .add({
          name: 'ON_B',
          subjects: ['onb.>'],
          num_replicas: 1,
          placement: { cluster: 'outbox', tags: ['b'] },
        })
        .then(() => true)
        .catch(() => false),
    'the cluster to elect a meta leader and create the stream',
    30_000,
  );
  const nats = new NatsPublisher({ servers: a.url, timeoutMs: 1_000 });
  try {
    expect(await nats.publish(makeTestMessage({ destination: 'nats:onb.x' }), testContext())).toMatchObject({
      stream: 'ON_B',
    });
    await b.stop();
    let last: unknown;
    await waitFor(
      async () => {
        last = await nats
          .publish(makeTestMessage({ destination: 'nats:onb.x' }), testContext())
          .catch((e) => e);
        expect(last).toBeInstanceOf(TransientPublishError);
        return String((last as Error).message).includes('stream "ON_B" bound to "onb.x" did not answer');
      },
      'the 503 of a known stream to be told apart from "no stream"',
      30_000,
    );
  } finally {
    await nats.close();
    await admin.close();
  }
}, 90_000);
