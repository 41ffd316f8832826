import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Kysely, Transaction } from 'kysely';
import type pg from 'pg';
import type { Clock } from '../core/foundation/clock.js';
import { describeError, OutboxValidationError } from '../core/foundation/errors.js';
import { type Logger, NOOP_LOGGER } from '../core/foundation/logger.js';
import {
  type VerifyWebhookOptions,
  verifyWebhook,
  type WebhookHeaders,
  WebhookVerificationError,
} from '../publishers/webhook/verify-webhook.js';
import type { Inbox, InboxMessage, InboxResult } from './create-inbox.js';
import {
  INBOX_ORDERING_KEY_HEADER,
  INBOX_PREVIOUS_SEQUENCE_HEADER,
  INBOX_SEQUENCE_HEADER,
  INBOX_TYPE_HEADER,
} from './inbox-webhook-headers.js';

/** Larger request bodies are refused with 413 (the relay dead-letters them: they never fit). */
export const DEFAULT_INBOX_MAX_BODY_BYTES = 1024 * 1024;

/**
 * One verified webhook, as the handler gets it.
 *
 * @example
 * handler: async (trx, webhook: InboxWebhook) => { const { orderId } = webhook.payload as { orderId: string }; }
 */
export interface InboxWebhook {
  /** `webhook-id`: the outbox message id. */
  readonly id: string;
  readonly type: string | undefined;
  /** The raw body, as signed. */
  readonly body: string;
  /** The body parsed as JSON. */
  readonly payload: unknown;
  readonly headers: WebhookHeaders;
  readonly orderingKey: string | undefined;
}

/**
 * The answer to send, decided from what the inbox did (or why it did nothing).
 *
 * @example
 * const r = await receiver.handle({ headers: req.headers, body: req.body });
 * res.status(r.status).set(r.headers).send(r.body);
 */
export interface InboxWebhookReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** What happened, for logs and tests: an inbox status, or why the request was refused. */
  readonly outcome: InboxResult<unknown>['status'] | 'unauthorized' | 'bad_request' | 'too_large' | 'failed';
}

/**
 * Options of `createWebhookReceiver`; `Q` is the handler's transaction type.
 *
 * @example
 * createWebhookReceiver(pool, { inbox, secrets: [newSecret, oldSecret], order: true, handler });
 */
export interface WebhookReceiverOptions<Q> {
  readonly inbox: Inbox;
  /** `whsec_...` secrets; any one signing the request is enough (rotation). */
  readonly secrets: VerifyWebhookOptions['secrets'];
  /** Applies the message's effect in the inbox row's transaction; throwing answers 500 (retried). */
  readonly handler: (trx: Q, webhook: InboxWebhook) => Promise<unknown> | unknown;
  /**
   * Per-key order: `true` reads the `outbox-ordering-key`/`outbox-sequence`/`outbox-previous-sequence`
   * headers (`inboxWebhookHeaders` on the publisher sends them), a function reads them from the
   * webhook your way (e.g. from the signed payload). Default off: deduplication only.
   */
  readonly order?:
    | boolean
    | ((webhook: InboxWebhook) => Pick<InboxMessage, 'orderingKey' | 'sequence' | 'previousSequence'>);
  readonly toleranceSeconds?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly maxBodyBytes?: number;
}

/**
 * A Standard Webhooks endpoint in front of an inbox.
 *
 * @example
 * http.createServer(receiver.listener).listen(8080);
 */
export interface WebhookReceiver {
  /** Verifies, deduplicates and applies one request given as headers and raw body; throws only when misconfigured (an invalid secret). */
  handle(request: {
    readonly headers: WebhookHeaders;
    readonly body: string | Uint8Array;
  }): Promise<InboxWebhookReply>;
  /** A node:http listener (also an Express route handler, when no body parser ran before it). */
  readonly listener: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  // node:http lower-cases names; a hand-built record may not.
  const value = record[name] ?? record[Object.keys(record).find((k) => k.toLowerCase() === name) ?? ''];
  return Array.isArray(value) ? value[0] : (value as string | undefined);
}

function decoded(value: string | undefined): string | undefined {
  return value === undefined ? undefined : decodeURIComponent(value);
}

function orderFromHeaders(
  webhook: InboxWebhook,
): Pick<InboxMessage, 'orderingKey' | 'sequence' | 'previousSequence'> {
  return {
    orderingKey: webhook.orderingKey ?? null,
    sequence: header(webhook.headers, INBOX_SEQUENCE_HEADER) ?? null,
    previousSequence: header(webhook.headers, INBOX_PREVIOUS_SEQUENCE_HEADER) ?? null,
  };
}

function json(
  status: number,
  outcome: InboxWebhookReply['outcome'],
  extra: Record<string, string> = {},
): InboxWebhookReply {
  return {
    status,
    headers: { 'content-type': 'application/json', ...extra },
    body: JSON.stringify({ status: outcome }),
    outcome,
  };
}

/**
 * Reads a node:http request body up to `limit` bytes; undefined when it is larger (the rest is
 * drained so the connection can answer 413 and be reused).
 */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  return size > limit ? undefined : Buffer.concat(chunks);
}

/**
 * A webhook endpoint that gives every message's effect exactly once: it verifies the Standard
 * Webhooks signature (key rotation, timestamp tolerance), then records `webhook-id` and runs
 * `handler` in one transaction. Answers 401 to a bad signature (nothing written), 500 when the
 * handler throws (the relay retries), 200 to a new message or a duplicate, and 503 with
 * Retry-After to a message whose predecessor (per-key order) is not applied yet.
 *
 * @example
 * const receiver = createWebhookReceiver(pool, {
 *   inbox: createInbox(), secrets: [process.env.WEBHOOK_SECRET!],
 *   handler: async (client, webhook) => { await client.query('insert into orders ...', [webhook.payload]); },
 * });
 * http.createServer(receiver.listener).listen(8080);
 */
export function createWebhookReceiver<DB>(
  db: Kysely<DB>,
  options: WebhookReceiverOptions<Transaction<DB>>,
): WebhookReceiver;
export function createWebhookReceiver(
  db: pg.Pool,
  options: WebhookReceiverOptions<pg.PoolClient>,
): WebhookReceiver;
export function createWebhookReceiver(
  db: Kysely<any> | pg.Pool,
  options: WebhookReceiverOptions<any>,
): WebhookReceiver {
  const logger = options.logger ?? NOOP_LOGGER;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_INBOX_MAX_BODY_BYTES;
  const order =
    options.order === true
      ? orderFromHeaders
      : options.order === false || options.order === undefined
        ? undefined
        : options.order;

  async function handle(request: {
    readonly headers: WebhookHeaders;
    readonly body: string | Uint8Array;
  }): Promise<InboxWebhookReply> {
    const { headers } = request;
    const raw = request.body;
    if ((typeof raw === 'string' ? Buffer.byteLength(raw) : raw.byteLength) > maxBodyBytes) {
      return json(413, 'too_large');
    }
    let id: string | undefined;
    try {
      id = verifyWebhook({
        headers,
        body: raw,
        secrets: options.secrets,
        ...(options.toleranceSeconds === undefined ? {} : { toleranceSeconds: options.toleranceSeconds }),
        ...(options.clock === undefined ? {} : { clock: options.clock }),
      }).id;
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      logger.warn(
        { reason: error.reason, webhookId: header(headers, 'webhook-id') },
        `webhook refused: ${error.message}`,
      );
      // The reason, never a secret or the expected signature (the error message holds neither).
      return {
        ...json(401, 'unauthorized'),
        body: JSON.stringify({ status: 'unauthorized', reason: error.reason }),
      };
    }
    const body =
      typeof raw === 'string'
        ? raw
        : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8');
    let webhook: InboxWebhook;
    let message: InboxMessage;
    try {
      webhook = {
        id: id!,
        type: decoded(header(headers, INBOX_TYPE_HEADER)),
        body,
        payload: JSON.parse(body),
        headers,
        orderingKey: decoded(header(headers, INBOX_ORDERING_KEY_HEADER)),
      };
      message = { id: id!, type: webhook.type ?? null, ...order?.(webhook) };
    } catch (error) {
      // A body that is not JSON or a malformed order header never gets better: 400 dead-letters it.
      logger.warn(
        { webhookId: id, error: describeError(error) },
        'webhook refused: unreadable body or headers',
      );
      return json(400, 'bad_request');
    }
    let handlerRan = false;
    try {
      const outcome = await options.inbox.process(db as Kysely<any>, message, (trx) => {
        handlerRan = true;
        return options.handler(trx, webhook);
      });
      if (outcome.status === 'out_of_order') {
        return json(503, 'out_of_order', { 'retry-after': String(Math.ceil(outcome.retryAfterMs / 1000)) });
      }
      return json(200, outcome.status);
    } catch (error) {
      // The inbox refusing the message's own fields (a sequence header that is not a number)
      // never gets better; anything the handler throws may, so only the former is a 400.
      if (!handlerRan && error instanceof OutboxValidationError) {
        logger.warn({ webhookId: id, error: describeError(error) }, 'webhook refused: invalid inbox fields');
        return json(400, 'bad_request');
      }
      logger.error(
        { webhookId: id, error: describeError(error) },
        'webhook handler failed; rolled back, the sender retries',
      );
      return json(500, 'failed');
    }
  }

  return {
    handle,
    async listener(req, res) {
      let reply: InboxWebhookReply;
      try {
        const body = await readBody(req, maxBodyBytes);
        reply = body === undefined ? json(413, 'too_large') : await handle({ headers: req.headers, body });
      } catch (error) {
        logger.error({ error: describeError(error) }, 'webhook request failed before an answer');
        reply = json(500, 'failed');
      }
      res.writeHead(reply.status, reply.headers).end(reply.body);
    },
  };
}
