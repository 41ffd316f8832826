import { NATS_MSG_ID_HEADER } from './nats-header-names.js';
import { formatBody } from '../../core/foundation/body-format.js';
import { type JetStreamClient, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { TransientPublishError } from '../../core/foundation/errors.js';
import { type Logger, NOOP_LOGGER } from '../../core/foundation/logger.js';
import type { OutboxMessage } from '../../core/foundation/message.js';
import type { PublishContext, Publisher } from '../../core/foundation/publisher.js';
import { classifyNatsError } from './nats-error-classifier.js';
import { natsConnectOptions } from './nats-connect-options.js';
import { natsHeaders, natsHeadersBytes } from './nats-headers.js';
import {
  type NatsPublisherOptions,
  type ResolvedNatsOptions,
  resolveNatsOptions,
} from './nats-publisher-options.js';
import { subjectFor } from './nats-subject.js';

/** What a delivered message stores in the row's `result` column: JetStream's PubAck. */
export interface NatsPublishResult {
  /** The stream that stored the message. */
  readonly stream: string;
  /** Its sequence in that stream (of the first copy, when `duplicate`). */
  readonly seq: number;
  /** True when the stream already held this `Nats-Msg-Id` (a re-publish inside the duplicate window). */
  readonly duplicate: boolean;
}

interface Link {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
}

const encoder = new TextEncoder();
/**
 * `NatsPublisher.concurrency`: 128 reached 0.52-0.54 of the raw client's rate against 0.42-0.45
 * at the relay's default 32, and 256 no more (bench/nats.ts, docs/nats.md).
 */
const NATS_CONCURRENCY = 128;

/** Settles with `promise`, or rejects as soon as `signal` aborts (the relay stopping or the attempt deadline). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  if (signal.aborted) return Promise.reject(aborted(what));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(aborted(what));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function aborted(what: string): TransientPublishError {
  return new TransientPublishError(`${what} aborted (relay stopping or attempt deadline)`);
}

/**
 * Publishes outbox messages to NATS JetStream and waits for the stream's PubAck. The subject
 * is the destination's suffix (`nats:orders.created`) or `subject(message)` (default
 * `outbox.<type>`); `Nats-Msg-Id` is the message id, so a re-publish after a relay crash
 * inside the stream's duplicate window is acknowledged as `duplicate` and stored once. A
 * duplicate counts as delivered. Headers: `Outbox-Type`, `Outbox-Kind`, `Outbox-Tenant-Id`,
 * `Outbox-Ordering-Key` and the message's own headers as `Outbox-Header-<name>`.
 * One connection per publisher, opened on first publish and reconnecting on its own;
 * `close()` drains it. Errors are classified by `classifyNatsError`.
 *
 * @example
 * import { NatsPublisher } from 'outbox-relay/nats';
 * const nats = new NatsPublisher({ servers: 'nats://127.0.0.1:4222', credsFile: '/etc/nats/relay.creds' });
 * const relay = createRelay({ db, publishers: { nats } });
 * await outbox.add(trx, { type: 'order.created', destination: 'nats:orders.created', payload });
 */
/** Where and how `publishCopy` sends a copy of a message. */
export interface NatsCopy {
  readonly subject: string;
  /** Its `Nats-Msg-Id`: derived from the message id so a re-publish deduplicates. */
  readonly msgId: string;
  /** Set on top of the message's usual headers. */
  readonly headers: Readonly<Record<string, string>>;
}

export class NatsPublisher implements Publisher {
  readonly name: string;
  /**
   * Publishes in flight a relay runs for it unless its `concurrency` is set: a PubAck round trip
   * is cheap, and more of them in flight is what closes the gap to the raw client (docs/nats.md).
   */
  readonly concurrency = NATS_CONCURRENCY;
  readonly #options: ResolvedNatsOptions;
  readonly #logger: Logger;
  #link: Promise<Link> | undefined;
  #closing: Promise<void> | undefined;
  /** Publishes waiting for their PubAck: close() lets them finish before draining. */
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(options: NatsPublisherOptions & { readonly logger?: Logger }) {
    this.#options = resolveNatsOptions(options);
    this.name = this.#options.name;
    this.#logger = options.logger ?? NOOP_LOGGER;
  }

  /**
   * Connects now instead of on the first publish, so a wrong URL or credential shows at startup.
   *
   * @example
   * await nats.connect();
   */
  async connect(): Promise<void> {
    await this.#connection();
  }

  publish(message: OutboxMessage, context: PublishContext): Promise<NatsPublishResult> {
    const attempt = this.#publish(message, context);
    this.#inFlight.add(attempt);
    const forget = () => this.#inFlight.delete(attempt);
    attempt.then(forget, forget);
    return attempt;
  }

  /**
   * Publishes a copy of `message` to `copy.subject` with `Nats-Msg-Id` = `copy.msgId` and extra
   * headers, on this publisher's connection and body format (no `Nats-Expected-Stream`: the copy
   * may belong to another stream). Used for dead-letter subjects; throws like `publish`.
   *
   * @example
   * await nats.publishCopy(message, { subject: 'provisioning.dlq', msgId: `${message.messageId}:dead:5`, headers: {} }, context);
   */
  publishCopy(message: OutboxMessage, copy: NatsCopy, context: PublishContext): Promise<NatsPublishResult> {
    const attempt = this.#publish(message, context, copy);
    this.#inFlight.add(attempt);
    const forget = () => this.#inFlight.delete(attempt);
    attempt.then(forget, forget);
    return attempt;
  }

  async #publish(
    message: OutboxMessage,
    context: PublishContext,
    copy?: NatsCopy,
  ): Promise<NatsPublishResult> {
    const { signal } = context;
    if (signal.aborted) throw aborted('NATS publish');
    const options = this.#options;
    const subject = copy?.subject ?? subjectFor(message, this.name, options.subject);
    const headers = natsHeaders(message, {
      prefix: options.headerPrefix,
      ...(copy ? {} : { expectStream: options.expectStream }),
      ...(context.traceHeaders ? { trace: context.traceHeaders } : {}),
    });
    if (copy) {
      headers.set(NATS_MSG_ID_HEADER, copy.msgId);
      for (const [name, value] of Object.entries(copy.headers)) headers.set(name, value);
    }
    const sent = formatBody(message, options.bodyFormat, options.bodyFormatOptions);
    // Only the other formats say what they are; `payload` stays exactly as before.
    if (options.bodyFormat !== 'payload') headers.set('Content-Type', sent.contentType);
    const body = encoder.encode(sent.body);
    let link: Link | undefined;
    try {
      link = await abortable(this.#connection(), signal, 'NATS connect');
      const ack = await abortable(
        link.js.publish(subject, body, { headers, timeout: options.timeoutMs }),
        signal,
        `NATS publish to "${subject}"`,
      );
      if (ack.duplicate) {
        context.logger.info(
          { subject, stream: ack.stream, seq: ack.seq },
          'JetStream already held this Nats-Msg-Id (a re-publish inside the duplicate window): stored once',
        );
      }
      return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
    } catch (error) {
      const nc = link?.nc;
      throw await classifyNatsError(error, {
        subject,
        bytes: body.length + natsHeadersBytes(headers),
        maxPayload: nc?.info?.max_payload,
        timeoutMs: options.timeoutMs,
        expectStream: options.expectStream,
        findStream: async (s) => {
          if (!nc) throw new TransientPublishError('not connected to NATS');
          const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: options.timeoutMs });
          return jsm.streams.find(s);
        },
      });
    }
  }

  #connection(): Promise<Link> {
    if (this.#closing)
      return Promise.reject(new TransientPublishError(`NATS publisher "${this.name}" is closed`));
    this.#link ??= this.#open();
    return this.#link;
  }

  async #open(): Promise<Link> {
    let nc: NatsConnection;
    try {
      nc = await connect(natsConnectOptions(this.#options.connection));
    } catch (error) {
      // The next publish tries again; the relay's backoff paces those attempts.
      this.#link = undefined;
      throw error;
    }
    const link: Link = { nc, js: jetstream(nc, { timeout: this.#options.timeoutMs }) };
    this.#logger.info({ publisher: this.name, server: nc.getServer() }, 'NATS connected');
    void this.#watch(nc);
    void nc.closed().then((error) => {
      // Reconnects never give up, so this is close() or a fatal auth error: start afresh next time.
      if (this.#link && !this.#closing) this.#link = undefined;
      if (error) this.#logger.error({ publisher: this.name, err: error.message }, 'NATS connection closed');
    });
    return link;
  }

  async #watch(nc: NatsConnection): Promise<void> {
    try {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect' || status.type === 'reconnect' || status.type === 'error') {
          const detail = 'error' in status && status.error ? { err: String(status.error.message) } : {};
          this.#logger.warn({ publisher: this.name, status: status.type, ...detail }, `NATS ${status.type}`);
        }
      }
    } catch (error) {
      this.#logger.error({ publisher: this.name, err: String(error) }, 'NATS status stream failed');
    }
  }

  /**
   * Refuses new publishes, lets those in flight get their PubAck (or fail), then drains the
   * connection (flushes what is buffered, then closes); safe to call more than once.
   *
   * @example
   * await relay.stop(); await nats.close();
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      // The client's drain closes the reply subscription without waiting for PubAcks in flight.
      await Promise.allSettled(this.#inFlight);
      const pending = this.#link;
      if (!pending) return;
      const link = await pending.catch(() => undefined);
      if (link && !link.nc.isClosed()) await link.nc.drain();
    })();
    return this.#closing;
  }
}
