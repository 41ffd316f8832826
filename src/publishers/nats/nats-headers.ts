import { headers, type MsgHdrs } from '@nats-io/transport-node';
import { PermanentPublishError } from '../../core/foundation/errors.js';
import type { OutboxMessage } from '../../core/foundation/message.js';
import { TRACEPARENT_HEADER, TRACESTATE_HEADER } from '../../core/foundation/tracing.js';
import {
  NATS_EXPECTED_STREAM_HEADER,
  NATS_MSG_ID_HEADER,
  OUTBOX_KIND_HEADER,
  OUTBOX_ORDERING_KEY_HEADER,
  OUTBOX_TENANT_HEADER,
  OUTBOX_TYPE_HEADER,
} from './nats-header-names.js';

// NATS header names are HTTP-like tokens: no whitespace, no ':' and printable ASCII only.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The NATS headers a message is published with: `Nats-Msg-Id` = message id, the outbox's own
 * `Outbox-*` headers, the message's headers under `prefix`, and `Nats-Expected-Stream`
 * when a stream is expected. Headers the message cannot carry (a name with a space, a value
 * with a line break) are a permanent failure naming the header.
 *
 * @example
 * const h = natsHeaders(message, { prefix: DEFAULT_NATS_HEADER_PREFIX });
 * h.get('Nats-Msg-Id') === message.messageId;
 */
export function natsHeaders(
  message: OutboxMessage,
  options: {
    readonly prefix: string;
    readonly expectStream?: string;
    /** This attempt's span (`traceparent`, `tracestate`), when tracing is on. */
    readonly trace?: Readonly<Record<string, string>>;
  },
): MsgHdrs {
  const h = headers();
  h.set(NATS_MSG_ID_HEADER, message.messageId);
  h.set(OUTBOX_TYPE_HEADER, clean(message.type, OUTBOX_TYPE_HEADER));
  h.set(OUTBOX_KIND_HEADER, message.kind);
  if (message.tenantId !== null) h.set(OUTBOX_TENANT_HEADER, clean(message.tenantId, OUTBOX_TENANT_HEADER));
  if (message.orderingKey !== null)
    h.set(OUTBOX_ORDERING_KEY_HEADER, clean(message.orderingKey, OUTBOX_ORDERING_KEY_HEADER));
  if (options.expectStream !== undefined) h.set(NATS_EXPECTED_STREAM_HEADER, options.expectStream);
  for (const [name, value] of Object.entries(options.trace ?? {})) h.set(name, value);
  for (const [name, value] of Object.entries(message.headers)) {
    // The producer's trace context travels as this attempt's span's, set above.
    if (name === TRACEPARENT_HEADER || name === TRACESTATE_HEADER) continue;
    const key = `${options.prefix}${name}`;
    if (!HEADER_NAME.test(key)) {
      throw new PermanentPublishError(
        `header ${JSON.stringify(name)} cannot be a NATS header name (${JSON.stringify(key)}): use letters, digits and -_.`,
      );
    }
    h.append(key, clean(String(value), key));
  }
  return h;
}

function clean(value: string, header: string): string {
  if (/[\r\n]/.test(value)) {
    throw new PermanentPublishError(
      `header ${header} value contains a line break, which NATS headers cannot carry`,
    );
  }
  return value;
}

/**
 * Bytes the headers take on the wire (`NATS/1.0` line, `name: value` lines, blank line):
 * with the body, what the server compares against `max_payload`.
 *
 * @example
 * const size = body.length + natsHeadersBytes(h);
 */
export function natsHeadersBytes(h: MsgHdrs): number {
  let bytes = 'NATS/1.0\r\n\r\n'.length;
  for (const [name, values] of h) {
    for (const value of values) bytes += Buffer.byteLength(`${name}: ${value}\r\n`);
  }
  return bytes;
}
