import { WebhookPublisher } from '../../src/publishers/webhook/webhook-publisher.js';
import { publisherContract } from '../support/publisher-contract.js';
import { reply, startWebhookReceiver } from '../support/webhook-receiver.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

publisherContract('webhook', async () => {
  const receiver = await startWebhookReceiver({ secrets: [SECRET] });
  return {
    // The receiver listens on 127.0.0.1, which the SSRF guard refuses unless told otherwise.
    publisher: new WebhookPublisher({
      url: `${receiver.url}/hooks`,
      secrets: [SECRET],
      allowPrivateNetworks: true,
    }),
    failTransiently: () => receiver.respond(reply.status(503, 'maintenance')),
    failPermanently: () => receiver.respond(reply.status(400, 'bad payload')),
    hang: () => receiver.respond(reply.timeout()),
    secrets: [SECRET, SECRET.slice('whsec_'.length)],
    cleanup: () => receiver.close(),
  };
});
