import { parseMessageRef } from '../foundation/parse-message-ref.js';
import { type Queryable, sqlRunner } from '../foundation/queryable.js';
import { DEFAULT_SCHEMA } from '../foundation/schema-name.js';
import { parseTraceparent, TRACEPARENT_HEADER } from '../foundation/tracing.js';
import {
  type AttemptRow,
  AttemptStore,
  DeadLetterStore,
  type DeadReason,
  StatusStore,
  type StoredMessage,
} from '../store/index.js';

/** Attempts a story lists at most (a message has at most 1,000 attempts, plus its replays). */
const STORY_ATTEMPTS_LIMIT = 2_000;

/** Where a message is now. */
export type MessageState =
  | { kind: 'delivered'; at: Date }
  | { kind: 'dead'; at: Date | null; reason: DeadReason | null; error: string | null }
  /** Leased by relay `workerId` until `leaseUntil` (past: the lease expired, another relay may take it). */
  | { kind: 'in_flight'; workerId: string | null; leaseUntil: Date | null }
  /** Waits behind an earlier unfinished message of its ordering key. */
  | { kind: 'blocked'; key: string; behindId: string; behindMessageId: string; parked: boolean }
  /** Pending: due at `availableAt` (a retry's time after a failure). */
  | { kind: 'waiting'; availableAt: Date; lastError: string | null };

/** Everything known about one message. */
export interface MessageStory {
  message: StoredMessage;
  state: MessageState;
  /** The attempt log's rows for it, oldest first: attempts and replays. */
  attempts: AttemptRow[];
  /** The trace id of the producer's span, when `add` captured one (its `traceparent` header). */
  traceId: string | null;
}

/**
 * One message's story by row id or message_id: the message (from the hot table or the archive),
 * where it is now, every attempt and replay the attempt log holds, and its trace id. Undefined
 * when no such message is retained.
 *
 * @example
 * const story = await getMessageStory(db, '0193e5a2-7c1b-7cc0-9d1e-2f3a4b5c6d7e');
 * console.log(story?.state.kind, story?.attempts.length);
 */
export async function getMessageStory(
  db: Queryable,
  idOrMessageId: string,
  options: { schema?: string } = {},
): Promise<MessageStory | undefined> {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  const run = sqlRunner(db);
  const message = await new DeadLetterStore(schema).get(run, parseMessageRef(idOrMessageId));
  if (!message) return undefined;
  const [state, attempts] = await Promise.all([
    messageState(run, schema, message),
    new AttemptStore(schema).list(run, { messageId: message.messageId, limit: STORY_ATTEMPTS_LIMIT }),
  ]);
  const traceId = parseTraceparent(message.headers?.[TRACEPARENT_HEADER])?.traceId ?? null;
  return { message, state, attempts, traceId };
}

async function messageState(
  run: ReturnType<typeof sqlRunner>,
  schema: string,
  m: StoredMessage,
): Promise<MessageState> {
  if (m.deliveredAt) return { kind: 'delivered', at: m.deliveredAt };
  if (m.deadAt || m.status === 'dead')
    return { kind: 'dead', at: m.deadAt, reason: m.deadReason, error: m.lastError };
  const place = await new StatusStore(schema).messagePlace(run, m.id);
  if (place?.status === 'in_flight')
    return { kind: 'in_flight', workerId: place.lockedBy, leaseUntil: place.lockedUntil };
  if (m.orderingKey !== null && place?.headId && place.headMessageId) {
    return {
      kind: 'blocked',
      key: m.orderingKey,
      behindId: place.headId,
      behindMessageId: place.headMessageId,
      parked: place.parked,
    };
  }
  return { kind: 'waiting', availableAt: m.availableAt, lastError: m.lastError };
}
