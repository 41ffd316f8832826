import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

/** One message as a JetStream consumer reads it. */
export interface StreamedMessage {
  readonly seq: number;
  readonly subject: string;
  readonly msgId: string;
  readonly orderingKey: string | undefined;
  /** The W3C trace context the publisher sent, when tracing was on. */
  readonly traceparent: string | undefined;
  readonly body: string;
  /** Every header, first value of each. */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Reads every message of a stream, in stream order, with an ordered JetStream consumer
 * (the way a downstream service would), failing if they do not all arrive in time.
 *
 * @example
 * const messages = await readStream(nats.url, 'ORDERS');
 */
export async function readStream(
  url: string,
  stream: string,
  options: { readonly timeoutMs?: number; readonly token?: string } = {},
): Promise<StreamedMessage[]> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const nc = await connect({ servers: url, ...(options.token ? { token: options.token } : {}) });
  try {
    const expected = (await (await jetstreamManager(nc)).streams.info(stream)).state.messages;
    const out: StreamedMessage[] = [];
    if (expected === 0) return out;
    const consumer = await jetstream(nc).consumers.get(stream);
    const messages = await consumer.consume({ max_messages: 1_000 });
    const timer = setTimeout(() => void messages.stop(), timeoutMs);
    try {
      for await (const m of messages) {
        out.push({
          seq: m.seq,
          subject: m.subject,
          msgId: m.headers?.get('Nats-Msg-Id') ?? '',
          traceparent: m.headers?.get('traceparent') || undefined,
          orderingKey: m.headers?.has('Outbox-Ordering-Key')
            ? m.headers.get('Outbox-Ordering-Key')
            : undefined,
          body: m.string(),
          headers: Object.fromEntries(
            [...(m.headers ?? [])].map(([name, values]) => [name, values[0] ?? '']),
          ),
        });
        if (out.length >= expected) break;
      }
    } finally {
      clearTimeout(timer);
    }
    if (out.length < expected)
      throw new Error(`read ${out.length} of ${expected} messages of ${stream} in ${timeoutMs} ms`);
    return out;
  } finally {
    await nc.close();
  }
}
