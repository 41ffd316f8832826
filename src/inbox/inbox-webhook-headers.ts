/** The message's ordering key, percent-encoded (any text survives an HTTP header that way). */
export const INBOX_ORDERING_KEY_HEADER = 'outbox-ordering-key';
/** The message's position among its key's messages: the outbox row id, rising per key in delivery order. */
export const INBOX_SEQUENCE_HEADER = 'outbox-sequence';
/** The key's previous message's sequence, when the producer knows it (per-key versions). */
export const INBOX_PREVIOUS_SEQUENCE_HEADER = 'outbox-previous-sequence';
/** The message's type. */
export const INBOX_TYPE_HEADER = 'outbox-type';

/**
 * The parts of an outbox message `inboxWebhookHeaders` reads (an `OutboxMessage` fits).
 *
 * @example
 * inboxWebhookHeaders({ id: '1187', type: 'order.paid', orderingKey: 'order/42' });
 */
export interface InboxHeaderSource {
  readonly id: string;
  readonly type: string;
  readonly orderingKey: string | null;
}

/**
 * Extra request headers for `WebhookPublisher`'s `headers` option that give a receiving inbox
 * what per-key order needs: the ordering key and the outbox row id as the key's sequence
 * (the relay delivers a key's messages one at a time in row-id order). No publisher change:
 * the option exists for this. The headers are not covered by the webhook signature (it signs
 * id, timestamp and body); over HTTPS nobody can change them in flight.
 *
 * @example
 * new WebhookPublisher({ url, secrets, headers: inboxWebhookHeaders });
 * // outbox-type: order.paid, outbox-ordering-key: order%2F42, outbox-sequence: 1187
 */
export function inboxWebhookHeaders(message: InboxHeaderSource): Record<string, string> {
  const headers: Record<string, string> = { [INBOX_TYPE_HEADER]: encodeURIComponent(message.type) };
  if (message.orderingKey !== null) {
    headers[INBOX_ORDERING_KEY_HEADER] = encodeURIComponent(message.orderingKey);
    headers[INBOX_SEQUENCE_HEADER] = message.id;
  }
  return headers;
}
