import type { MessageKind } from '../foundation/message.js';

/** Why a row died (the `dead_reason` column, migration 0004). */
export type DeadReason = 'max_attempts' | 'permanent' | 'unroutable' | 'lease_expired' | 'unstorable_result';

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

/** The columns `toStoredMessage` reads. */
export const STORED_COLUMNS = `id, message_id, kind, type, destination, tenant_id, ordering_key, payload, headers,
  status, attempts, max_attempts, last_error, dead_reason, result, created_at, available_at, delivered_at, dead_at`;

/**
 * A selected row (`STORED_COLUMNS`) in the library's camelCase shape.
 *
 * @example
 * const rows = await run(`select ${STORED_COLUMNS} from ...`); rows.map(toStoredMessage);
 */
export function toStoredMessage(r: Record<string, any>): StoredMessage {
  return {
    id: r.id,
    messageId: r.message_id,
    kind: r.kind,
    type: r.type,
    destination: r.destination,
    tenantId: r.tenant_id,
    orderingKey: r.ordering_key,
    payload: r.payload,
    headers: r.headers,
    status: r.status,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    lastError: r.last_error,
    deadReason: r.dead_reason,
    result: r.result,
    createdAt: r.created_at,
    availableAt: r.available_at,
    deliveredAt: r.delivered_at,
    deadAt: r.dead_at,
  };
}
