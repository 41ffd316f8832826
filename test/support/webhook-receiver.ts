import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Clock } from '../../src/core/foundation/clock.js';
import { verifyWebhook } from '../../src/publishers/webhook/verify-webhook.js';

/** How the receiver answers one request. */
export type ReceiverReply =
  | {
      readonly kind: 'status';
      readonly status: number;
      readonly headers?: Record<string, string>;
      readonly body?: string;
    }
  /** Reads the request and never answers (until the receiver closes). */
  | { readonly kind: 'timeout' }
  /** Reads the request, then resets the TCP connection (RST) without an answer. */
  | { readonly kind: 'reset' }
  /** Sends the status line, then the body one byte every `intervalMs`. */
  | {
      readonly kind: 'slow-body';
      readonly status: number;
      readonly bytes: number;
      readonly intervalMs: number;
    };

/** Builders of the replies a test usually wants. */
export const reply = {
  ok: (body = ''): ReceiverReply => ({ kind: 'status', status: 200, body }),
  status: (status: number, body = '', headers: Record<string, string> = {}): ReceiverReply => ({
    kind: 'status',
    status,
    body,
    headers,
  }),
  tooManyRequests: (retryAfter: string): ReceiverReply => ({
    kind: 'status',
    status: 429,
    headers: { 'retry-after': retryAfter },
    body: 'slow down',
  }),
  gone: (): ReceiverReply => ({ kind: 'status', status: 410, body: 'endpoint removed' }),
  redirect: (location: string, status = 302): ReceiverReply => ({
    kind: 'status',
    status,
    headers: { location },
  }),
  timeout: (): ReceiverReply => ({ kind: 'timeout' }),
  reset: (): ReceiverReply => ({ kind: 'reset' }),
  slowBody: (bytes = 20, intervalMs = 100, status = 200): ReceiverReply => ({
    kind: 'slow-body',
    status,
    bytes,
    intervalMs,
  }),
};

/** One request the receiver got, and how it answered. */
export interface ReceivedWebhook {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  readonly id: string | undefined;
  readonly timestamp: number | undefined;
  /** Signature check result when the receiver was given secrets, else undefined. */
  readonly verified: boolean | undefined;
  readonly reply: ReceiverReply;
  /** Wall-clock ms when the request body had been read. */
  readonly receivedAt: number;
}

/** Decides the reply; `n` counts requests from 0. */
export type Responder = (request: ReceivedWebhook, n: number) => ReceiverReply;

/** Options of `startWebhookReceiver`. */
export interface WebhookReceiverOptions {
  /** Verify every request's Standard Webhooks signature against these secrets. */
  readonly secrets?: readonly string[];
  readonly toleranceSeconds?: number;
  /** The receiver's time source for the timestamp window. */
  readonly clock?: Clock;
  /** Initial reply policy; default 200. */
  readonly respond?: ReceiverReply | Responder;
  readonly host?: string;
}

/** A running receiver. */
export interface WebhookReceiver {
  /** Base URL, e.g. `http://127.0.0.1:43210`; any path is accepted. */
  readonly url: string;
  readonly port: number;
  readonly requests: readonly ReceivedWebhook[];
  /** Changes how later requests are answered. */
  respond(policy: ReceiverReply | Responder): void;
  /** webhook-id -> number of 2xx answers given for it. */
  deliveries(): Map<string, number>;
  /** Requests per webhook-id, in arrival order. */
  byId(): Map<string, ReceivedWebhook[]>;
  /** Resolves once `predicate()` holds (checked on every request); rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>;
  /** Resolves once `count` requests have arrived. */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A deterministic responder that fails `ratio` of requests, cycling through `modes`
 * (default 500, timeout, reset), with a seeded generator so a failing run can be replayed.
 *
 * @example
 * receiver.respond(flaky({ ratio: 0.5, seed: 42 }));
 */
export function flaky(options: {
  ratio: number;
  seed?: number;
  modes?: readonly ReceiverReply[];
}): Responder {
  const modes = options.modes ?? [reply.status(500, 'boom'), reply.timeout(), reply.reset()];
  let state = options.seed ?? 1;
  let failures = 0;
  const random = () => {
    // mulberry32
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => (random() < options.ratio ? modes[failures++ % modes.length]! : reply.ok());
}

/**
 * Starts a real node:http webhook receiver on 127.0.0.1 and a free port. It records every
 * request (raw body, headers, signature verdict) and answers as told: 2xx, any status with
 * Retry-After or Location, a hang, a connection reset, or a slow body.
 *
 * @example
 * const receiver = await startWebhookReceiver({ secrets: [secret] });
 * receiver.respond(reply.tooManyRequests('120'));
 * ...
 * await receiver.close();
 */
export async function startWebhookReceiver(options: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
  const requests: ReceivedWebhook[] = [];
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let policy: ReceiverReply | Responder = options.respond ?? reply.ok();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const id = typeof req.headers['webhook-id'] === 'string' ? req.headers['webhook-id'] : undefined;
      const ts = req.headers['webhook-timestamp'];
      let verified: boolean | undefined;
      if (options.secrets) {
        try {
          verifyWebhook({
            headers: req.headers,
            body,
            secrets: options.secrets,
            ...(options.toleranceSeconds === undefined ? {} : { toleranceSeconds: options.toleranceSeconds }),
            ...(options.clock ? { clock: options.clock } : {}),
          });
          verified = true;
        } catch {
          verified = false;
        }
      }
      const partial = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body,
        id,
        timestamp: typeof ts === 'string' ? Number(ts) : undefined,
        verified,
        receivedAt: Date.now(),
      };
      const n = requests.length;
      const answer =
        typeof policy === 'function'
          ? policy({ ...partial, reply: reply.ok() }, n)
          : (policy as ReceiverReply);
      const request: ReceivedWebhook = { ...partial, reply: answer };
      requests.push(request);
      switch (answer.kind) {
        case 'status':
          res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
          res.end(answer.body ?? '');
          break;
        case 'timeout':
          break;
        case 'reset':
          req.socket.resetAndDestroy();
          break;
        case 'slow-body': {
          res.writeHead(answer.status, {
            'content-type': 'text/plain',
            'content-length': String(answer.bytes),
          });
          // The head goes out with the first body byte; send one now so only the rest is slow.
          res.write('x');
          let sent = 1;
          const timer = setInterval(() => {
            if (res.destroyed || sent >= answer.bytes) {
              clearInterval(timer);
              timers.delete(timer);
              if (!res.destroyed) res.end();
              return;
            }
            res.write('x');
            sent++;
          }, answer.intervalMs);
          timers.add(timer);
          break;
        }
      }
      events.emit('request', request);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;

  const waitFor = (predicate: () => boolean, timeoutMs = 10_000) =>
    new Promise<void>((resolve, reject) => {
      if (predicate()) return resolve();
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        events.off('request', check);
        resolve();
      };
      const timer = setTimeout(() => {
        events.off('request', check);
        reject(
          new Error(
            `webhook receiver: condition not met within ${timeoutMs} ms (${requests.length} requests)`,
          ),
        );
      }, timeoutMs);
      events.on('request', check);
    });

  return {
    url: `http://${host}:${port}`,
    port,
    requests,
    respond(next) {
      policy = next;
    },
    deliveries() {
      const counts = new Map<string, number>();
      for (const r of requests) {
        if (
          r.id !== undefined &&
          r.reply.kind === 'status' &&
          r.reply.status >= 200 &&
          r.reply.status < 300
        ) {
          counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
        }
      }
      return counts;
    },
    byId() {
      const map = new Map<string, ReceivedWebhook[]>();
      for (const r of requests) {
        if (r.id === undefined) continue;
        const list = map.get(r.id) ?? [];
        list.push(r);
        map.set(r.id, list);
      }
      return map;
    },
    waitFor,
    waitForRequests: (count, timeoutMs) => waitFor(() => requests.length >= count, timeoutMs),
    async close() {
      for (const timer of timers) clearInterval(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
