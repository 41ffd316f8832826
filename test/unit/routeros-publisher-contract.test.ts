import { RouterOsPublisher } from '../../src/publishers/routeros/routeros-publisher.js';
import { makeTestMessage, publisherContract } from '../support/publisher-contract.js';
import { startFakeRouter } from '../../src/testing/fake-router/index.js';

const PASSWORD = 'router-secret-pw';

let customer = 0;

publisherContract('routeros', async () => {
  const router = await startFakeRouter({ users: { admin: PASSWORD }, profiles: ['10M'] });
  return {
    publisher: new RouterOsPublisher({
      devices: [
        { name: 'tower-1', host: router.host, port: router.port, username: 'admin', password: PASSWORD },
      ],
      connectTimeoutMs: 500,
      commandTimeoutMs: 500,
    }),
    message: () =>
      makeTestMessage({
        kind: 'command',
        type: 'pppoe.create',
        destination: 'routeros:tower-1',
        orderingKey: 'tower-1',
        payload: { name: `c${++customer}`, password: 'customer-pw', profile: '10M' },
      }),
    failTransiently: () => router.setMode({ offline: true }),
    failPermanently: () => router.setMode({ readOnly: true }),
    hang: () => router.setMode({ silent: true }),
    secrets: [PASSWORD, 'customer-pw'],
    cleanup: () => router.close(),
  };
});
