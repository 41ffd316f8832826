import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeError, OutboxError } from '../../core/foundation/errors.js';
import { verifyWebhook, WebhookVerificationError } from '../../publishers/webhook/index.js';

/** What the demo's orders put in their payload to steer the receiver (a type: an untyped outbox takes JSON values, which interfaces are not). */
export type DemoPayload = {
  orderId: string;
  customer: string;
  /** Answer 503 to this many attempts first (a busy receiver). */
  failFirst: number;
  /** Refuse the event with 422 (a receiver that will never take it: the message dies). */
  reject?: string;
};

/** The demo's local webhook receiver. */
export interface DemoReceiver {
  readonly url: string;
  /** webhook-ids of the events it accepted (2xx). */
  readonly received: ReadonlySet<string>;
  /** Requests whose signature did not verify (must stay 0). */
  badSignatures(): number;
  /** Events it refused for good (422). */
  rejected(): number;
  /** Requests it failed to handle (must stay empty). */
  readonly errors: readonly string[];
  close(): Promise<void>;
}

/**
 * Starts a receiver on 127.0.0.1 that verifies every signature, answers 503 to the planned
 * first attempts of a message (with `Retry-After: 0`), 422 to events marked `reject`, and 200
 * to the rest.
 *
 * @example
 * const receiver = await startDemoReceiver(secret); // receiver.url for the WebhookPublisher
 */
export async function startDemoReceiver(secret: string): Promise<DemoReceiver> {
  const received = new Set<string>();
  const attempts = new Map<string, number>();
  let badSignatures = 0;
  let rejected = 0;
  const errors: string[] = [];
  const answer = (req: http.IncomingMessage, body: Buffer, res: http.ServerResponse) => {
    let id: string | undefined;
    try {
      id = verifyWebhook({ headers: req.headers, body, secrets: [secret] }).id;
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      badSignatures++;
      res.writeHead(400).end('bad signature');
      return;
    }
    if (id === undefined)
      throw new OutboxError('WEBHOOK_VERIFICATION_FAILED', 'a verified webhook without webhook-id');
    const payload = JSON.parse(body.toString('utf8')) as DemoPayload;
    const n = (attempts.get(id) ?? 0) + 1;
    attempts.set(id, n);
    if (payload.reject) {
      rejected++;
      res.writeHead(422).end(payload.reject);
    } else if (n <= payload.failFirst) {
      res.writeHead(503, { 'retry-after': '0' }).end('busy');
    } else {
      received.add(id);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    }
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        answer(req, Buffer.concat(chunks), res);
      } catch (error) {
        // A request the receiver could not handle: counted (the summary then disagrees) and answered.
        errors.push(describeError(error));
        res.writeHead(500).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/orders`,
    received,
    badSignatures: () => badSignatures,
    rejected: () => rejected,
    errors,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
