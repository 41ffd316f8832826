import type { JsMsg } from '@nats-io/jetstream';
import type { Kysely, Transaction } from 'kysely';
import type pg from 'pg';
import { describeError, OutboxValidationError } from '../core/foundation/errors.js';
import { type Logger, NOOP_LOGGER } from '../core/foundation/logger.js';
import type { Inbox, InboxMessage, InboxResult } from './create-inbox.js';

// The headers NatsPublisher sends (README "NATS JetStream"); spelled here so this entry loads no NATS code.
const NATS_MSG_ID_HEADER = 'Nats-Msg-Id';
const OUTBOX_TYPE_HEADER = 'Outbox-Type';
const OUTBOX_ORDERING_KEY_HEADER = 'Outbox-Ordering-Key';

/** How long a failed message waits before JetStream redelivers it. */
export const DEFAULT_JETSTREAM_NAK_DELAY_MS = 5_000;

/**
 * What the consumer did with one JetStream message.
 *
 * @example
 * if ((await consumer.handle(m)) === 'failed') metrics.failures.inc();
 */
export type JetStreamInboxOutcome =
  | InboxResult<unknown>['status']
  /** Nak'ed with delay: the handler (or the database) failed; rolled back, redelivered later. */
  | 'failed'
  /** Nak'ed with delay without touching the database: an earlier message of its key is not applied yet here. */
  | 'held'
  /** Terminated (`term`, never redelivered): its inbox fields are invalid (an id over 512 characters, a bad sequence). */
  | 'rejected';

/**
 * Options of `createJetStreamInbox`; `Q` is the handler's transaction type.
 *
 * @example
 * createJetStreamInbox(pool, { inbox, nakDelayMs: 10_000, order: true, handler });
 */
export interface JetStreamInboxOptions<Q> {
  readonly inbox: Inbox;
  /** Applies the message's effect in the inbox row's transaction; throwing naks it with delay. */
  readonly handler: (trx: Q, message: JsMsg) => Promise<unknown> | unknown;
  /** Redelivery delay after a failure; default 5000. */
  readonly nakDelayMs?: number;
  /**
   * Per-key order: `true` takes the key from `Outbox-Ordering-Key` and the stream sequence as the
   * key's sequence (the relay publishes a key's messages one at a time, so they rise per key);
   * a function reads them your way (e.g. per-key versions with `previousSequence`). Default off.
   */
  readonly order?:
    | boolean
    | ((message: JsMsg) => Pick<InboxMessage, 'orderingKey' | 'sequence' | 'previousSequence'>);
  readonly logger?: Logger;
}

/**
 * A JetStream consumer loop in front of an inbox.
 *
 * @example
 * await consumer.consume(await (await jetstream(nc).consumers.get('ORDERS', 'billing')).consume());
 */
export interface JetStreamInbox {
  /** Deduplicates and applies one message, then acks after the commit, naks with delay, or terms an invalid one; never throws. */
  handle(message: JsMsg): Promise<JetStreamInboxOutcome>;
  /** Handles messages one at a time until the iterator ends (`messages.stop()`, `consumer.consume()`'s close). */
  consume(messages: AsyncIterable<JsMsg>): Promise<void>;
}

function fromHeaders(m: JsMsg): Pick<InboxMessage, 'orderingKey' | 'sequence'> {
  const key = m.headers?.has(OUTBOX_ORDERING_KEY_HEADER) ? m.headers.get(OUTBOX_ORDERING_KEY_HEADER) : null;
  return { orderingKey: key, sequence: m.seq };
}

/**
 * Consumes a JetStream stream with exactly-once effects: each message's `Nats-Msg-Id` is recorded
 * in the same transaction as the handler's effect, the message is acked only after that commit,
 * and nak'ed with a delay when the handler fails. A copy redelivered because an ack was lost (the
 * consumer died between commit and ack, the ack was dropped) finds its id and is only acked.
 * Messages without `Nats-Msg-Id` deduplicate on `<stream>:<stream sequence>`.
 *
 * @example
 * const consumer = await jetstream(nc).consumers.get('ORDERS', 'billing');
 * const js = createJetStreamInbox(pool, {
 *   inbox: createInbox({ schema: 'billing' }),
 *   handler: async (client, m) => { await client.query('update accounts ...', [m.json()]); },
 * });
 * await js.consume(await consumer.consume());
 */
export function createJetStreamInbox<DB>(
  db: Kysely<DB>,
  options: JetStreamInboxOptions<Transaction<DB>>,
): JetStreamInbox;
export function createJetStreamInbox(
  db: pg.Pool,
  options: JetStreamInboxOptions<pg.PoolClient>,
): JetStreamInbox;
export function createJetStreamInbox(
  db: Kysely<any> | pg.Pool,
  options: JetStreamInboxOptions<any>,
): JetStreamInbox {
  const logger = options.logger ?? NOOP_LOGGER;
  const nakDelayMs = options.nakDelayMs ?? DEFAULT_JETSTREAM_NAK_DELAY_MS;
  const order = options.order === true ? fromHeaders : options.order || undefined;
  // Per key, the stream sequences this process nak'ed (failed or held back) and awaits again.
  // Only the lowest of them may run: JetStream redelivers nak'ed messages in no promised
  // order, and a successor applied first would make its predecessor stale.
  const waiting = new Map<string, Set<number>>();
  const wait = (key: string, seq: number) => {
    const set = waiting.get(key) ?? new Set<number>();
    waiting.set(key, set.add(seq));
  };
  const done = (key: string, seq: number) => {
    const set = waiting.get(key);
    if (set?.delete(seq) && set.size === 0) waiting.delete(key);
  };
  const mustWait = (key: string, seq: number) => {
    const set = waiting.get(key);
    return set !== undefined && Math.min(...set) < seq;
  };

  async function handle(m: JsMsg): Promise<JetStreamInboxOutcome> {
    const id = m.headers?.get(NATS_MSG_ID_HEADER) || `${m.info.stream}:${m.seq}`;
    const type = m.headers?.has(OUTBOX_TYPE_HEADER) ? m.headers.get(OUTBOX_TYPE_HEADER) : null;
    let message: InboxMessage;
    try {
      message = { id, type, ...order?.(m) };
    } catch (error) {
      return reject(m, id, error);
    }
    const key = message.orderingKey ?? undefined;
    if (key !== undefined && mustWait(key, m.seq)) {
      wait(key, m.seq);
      m.nak(nakDelayMs);
      return 'held';
    }
    let outcome: InboxResult<unknown>;
    let handlerRan = false;
    try {
      outcome = await options.inbox.process(db as Kysely<any>, message, (trx) => {
        handlerRan = true;
        return options.handler(trx, m);
      });
    } catch (error) {
      // The inbox refusing the message's own fields never gets better; a handler's error may.
      if (!handlerRan && error instanceof OutboxValidationError) return reject(m, id, error);
      logger.error(
        { messageId: id, stream: m.info.stream, seq: m.seq, error: describeError(error) },
        'jetstream message failed; rolled back, nak with delay',
      );
      if (key !== undefined) wait(key, m.seq);
      m.nak(nakDelayMs);
      return 'failed';
    }
    if (outcome.status === 'out_of_order') {
      if (key !== undefined) wait(key, m.seq);
      m.nak(outcome.retryAfterMs);
      return outcome.status;
    }
    if (key !== undefined) done(key, m.seq);
    // Only now, after the commit: a consumer that dies before this line gets the message again,
    // and the inbox answers that copy `duplicate`.
    m.ack();
    return outcome.status;
  }

  function reject(m: JsMsg, id: string, error: unknown): 'rejected' {
    logger.error(
      { messageId: id, stream: m.info.stream, seq: m.seq, error: describeError(error) },
      'jetstream message has invalid inbox fields; terminated, it will not be redelivered',
    );
    // No reason argument: nats-server before 2.10 ignores a "+TERM <reason>" ack; the log has the reason.
    m.term();
    return 'rejected';
  }

  return {
    handle,
    async consume(messages) {
      for await (const m of messages) await handle(m);
    },
  };
}
