import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request as the counting receiver saw it. */
export interface CountedRequest {
  readonly path: string;
  readonly id: string;
  readonly body: string;
  /** performance.now() when its body had been read. */
  readonly at: number;
}

/** A real HTTP receiver that answers 200 after `delayMs` and counts requests in flight. */
export interface CountingReceiver {
  readonly url: string;
  readonly requests: readonly CountedRequest[];
  /** Requests it was answering at once, at most, since start (or `resetMax`). */
  maxInFlight(): number;
  resetMax(): void;
  /** Holds each later request this long before answering. */
  setDelay(ms: number): void;
  close(): Promise<void>;
}

/**
 * Starts a webhook receiver (node:http) that holds each request `delayMs` before answering 200,
 * and keeps the most requests it ever held at once: what a concurrency cap promises the receiver.
 *
 * @example
 * const r = await startCountingReceiver({ delayMs: 200 }); ...; expect(r.maxInFlight()).toBe(4);
 */
export async function startCountingReceiver(options: { delayMs?: number } = {}): Promise<CountingReceiver> {
  const requests: CountedRequest[] = [];
  const sockets = new Set<Socket>();
  let inFlight = 0;
  let delayMs = options.delayMs ?? 0;
  let max = 0;
  const server = http.createServer((req, res) => {
    inFlight++;
    max = Math.max(max, inFlight);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({
        path: req.url ?? '',
        id: String(req.headers['webhook-id'] ?? ''),
        body: Buffer.concat(chunks).toString('utf8'),
        at: performance.now(),
      });
      setTimeout(() => {
        inFlight--;
        res.writeHead(200).end();
      }, delayMs);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    maxInFlight: () => max,
    resetMax: () => {
      max = inFlight;
    },
    setDelay: (ms) => {
      delayMs = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
