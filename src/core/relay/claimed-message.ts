import type { OutboxMessage } from '../foundation/message.js';
import type { ClaimedRow } from '../store/index.js';

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * An outbox message as the claim returned it, whose payload is parsed only if a publisher
 * reads it (most built-in publishers send the stored body as is).
 *
 * @example
 * const message = new ClaimedMessage(row); await publisher.publish(message, context);
 */
export class ClaimedMessage implements OutboxMessage {
  readonly id: string;
  readonly messageId: string;
  readonly kind: ClaimedRow['kind'];
  readonly type: string;
  readonly destination: string;
  readonly tenantId: string | null;
  readonly orderingKey: string | null;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly #createdMs: number;
  #createdAt: Date | undefined;
  #payload: unknown;
  #parsed = false;

  constructor(row: ClaimedRow) {
    this.id = row.id;
    this.messageId = row.message_id;
    this.kind = row.kind;
    this.type = row.type;
    this.destination = row.destination;
    this.tenantId = row.tenant_id;
    this.orderingKey = row.ordering_key;
    this.body = row.body;
    this.headers = row.headers ?? NO_HEADERS;
    this.attempts = row.attempts;
    this.maxAttempts = row.max_attempts;
    this.#createdMs = row.created_ms;
  }

  /** Made on first read: most publishers never look (one Date per message less to collect). */
  get createdAt(): Date {
    this.#createdAt ??= new Date(this.#createdMs);
    return this.#createdAt;
  }

  get payload(): unknown {
    if (!this.#parsed) {
      this.#payload = JSON.parse(this.body);
      this.#parsed = true;
    }
    return this.#payload;
  }

  toJSON() {
    return { ...this, createdAt: this.createdAt, payload: this.payload };
  }
}
