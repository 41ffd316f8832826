/** `event` for domain events, `command` for device commands written with `addCommand`. */
export type MessageKind = 'event' | 'command';

/** Lifecycle of a row in the outbox table. */
export type MessageStatus = 'pending' | 'in_flight' | 'delivered' | 'dead';

/**
 * A message as a publisher receives it.
 *
 * `body` is the payload exactly as PostgreSQL stores it (jsonb text): publishers that send
 * bytes over the wire (webhook signing) must send `body`, not a re-serialized `payload`.
 *
 * @example
 * const publisher: Publisher = {
 *   name: 'log',
 *   async publish(message) { console.log(message.type, message.messageId, message.body); },
 * };
 */
export interface OutboxMessage<TPayload = unknown> {
  /** Row id (bigint, as a string): insertion order. */
  readonly id: string;
  /** Stable id across retries (UUID): the idempotency key receivers deduplicate on. */
  readonly messageId: string;
  readonly kind: MessageKind;
  readonly type: string;
  readonly destination: string;
  readonly tenantId: string | null;
  readonly orderingKey: string | null;
  /** Parsed payload. */
  readonly payload: TPayload;
  /** The payload's JSON text as stored. */
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  /** 1 on the first delivery attempt. */
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly createdAt: Date;
}

/** Upper bound for `maxAttempts`, so a typo cannot make a message retry for years. */
export const MAX_ATTEMPTS_LIMIT = 1000;

/** The range of a message's `maxAttempts` (and of every cap on it, such as the relay's). */
export const MAX_ATTEMPTS_BOUNDS = { min: 1, max: MAX_ATTEMPTS_LIMIT } as const;
