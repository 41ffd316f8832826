import type { MessageKind } from '../foundation/message.js';
import type { DeadReason } from './dead-reason.js';
import { MESSAGE_COLUMNS } from './message-columns.js';

/** A dead (or any) row as listed for operators. */
export interface StoredMessage {
  id: string;
  messageId: string;
  kind: MessageKind;
  type: string;
  destination: string;
  tenantId: string | null;
  orderingKey: string | null;
  payload: unknown;
  headers: Record<string, string>;
  status: string;
  attempts: number;
  maxAttempts: number;
  lastError: string | null;
  /** Why the row died, as data; null unless `status` is `dead`. */
  deadReason: DeadReason | null;
  result: unknown;
  createdAt: Date;
  availableAt: Date;
  deliveredAt: Date | null;
  deadAt: Date | null;
}

// Fails to compile when a StoredMessage field has no column in MESSAGE_COLUMNS, or the reverse.
type Fields = (typeof MESSAGE_COLUMNS)[number]['field'];
const everyField: [Exclude<keyof StoredMessage, Fields>, Exclude<Fields, keyof StoredMessage>] extends [
  never,
  never,
]
  ? true
  : never = true;
void everyField;

/**
 * A selected row (`STORED_COLUMNS`) in the library's camelCase shape.
 *
 * @example
 * const rows = await run(`select ${STORED_COLUMNS} from ...`); rows.map(toStoredMessage);
 */
export function toStoredMessage(r: Record<string, any>): StoredMessage {
  return Object.fromEntries(MESSAGE_COLUMNS.map((c) => [c.field, r[c.column]])) as StoredMessage;
}
