import { OutboxValidationError } from './errors.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ROW_ID_RE = /^[1-9]\d{0,18}$/;

/** A reference to one message: its row id (bigint, as text) or its message_id (UUID). */
export type MessageRef = { kind: 'id'; id: string } | { kind: 'messageId'; messageId: string };

/**
 * Tells a row id from a message_id, the one way the store, the CLI and the HTTP API read an
 * operator's reference. Throws `OutboxValidationError` for anything else.
 *
 * @example
 * parseMessageRef('42') // { kind: 'id', id: '42' }
 * parseMessageRef('0193e5a2-7c1b-7cc0-9d1e-2f3a4b5c6d7e') // { kind: 'messageId', messageId: '0193e5a2-...' }
 */
export function parseMessageRef(ref: string, field = 'id'): MessageRef {
  const text = String(ref).trim();
  if (ROW_ID_RE.test(text)) return { kind: 'id', id: text };
  if (UUID_RE.test(text)) return { kind: 'messageId', messageId: text.toLowerCase() };
  throw new OutboxValidationError(
    field,
    `must be a row id or a message_id (UUID), got ${JSON.stringify(ref)}`,
  );
}

/**
 * Whether `ref` is a row id or a message_id (for callers that report their own error).
 *
 * @example
 * isMessageRef('42') // true
 * isMessageRef('x') // false
 */
export function isMessageRef(ref: string): boolean {
  const text = String(ref).trim();
  return ROW_ID_RE.test(text) || UUID_RE.test(text);
}

/**
 * Sorts references into the `ids` and `messageIds` of a dead-letter filter.
 *
 * @example
 * splitMessageRefs(['42', '0193e5a2-7c1b-7cc0-9d1e-2f3a4b5c6d7e']) // { ids: ['42'], messageIds: ['0193e5a2-...'] }
 */
export function splitMessageRefs(
  refs: readonly string[],
  field = 'id',
): { ids: string[]; messageIds: string[] } {
  const ids: string[] = [];
  const messageIds: string[] = [];
  for (const ref of refs) {
    const parsed = parseMessageRef(ref, field);
    if (parsed.kind === 'id') ids.push(parsed.id);
    else messageIds.push(parsed.messageId);
  }
  return { ids, messageIds };
}
