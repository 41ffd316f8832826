import { describeError } from '../../core/foundation/errors.js';
import { type Logger, NOOP_LOGGER } from '../../core/foundation/logger.js';
import type { OutboxMessage } from '../../core/foundation/message.js';
import type { Relay } from '../../core/relay/index.js';
import type { DeadReason } from '../../core/store/dead-reason.js';
import { natsSubjectProblem } from './nats-subject.js';
import {
  OUTBOX_ATTEMPTS_HEADER,
  OUTBOX_DEAD_REASON_HEADER,
  OUTBOX_LAST_ERROR_HEADER,
  OUTBOX_MESSAGE_ID_HEADER,
} from './nats-header-names.js';
import type { NatsPublisher } from './nats-publisher.js';
import { OutboxValidationError } from '../../core/foundation/errors.js';

/** The error words carried in `Outbox-Last-Error` at most (the table keeps all of them). */
const MAX_ERROR_HEADER_CHARS = 1024;

/** How long one dead-letter copy may take before it counts as failed. */
export const DEFAULT_DEAD_LETTER_TIMEOUT_MS = 10_000;

/** What `forwardDeadLetters` did so far (for metrics and tests). */
export interface DeadLetterForwarder {
  /** Copies the server acknowledged (re-publishes it deduplicated included). */
  readonly forwarded: number;
  /** Copies that failed: logged at error; the row stays dead in the table either way. */
  readonly failed: number;
  /** Resolves once every copy started so far has settled. */
  idle(): Promise<void>;
  /** Stops listening to the relay. */
  detach(): void;
}

/**
 * Publishes a copy of every message `relay` dead-letters to the NATS `subject` (seed 002's
 * DLQ subject), once per death: `Nats-Msg-Id` is `<message id>:dead:<attempts>`, so a copy
 * published twice is stored once, and `Outbox-Dead-Reason`, `Outbox-Attempts` and
 * `Outbox-Message-Id` say what died and why. The table stays the source of truth (list,
 * replay and purge work as before); a copy that fails is logged and counted, never retried,
 * and never delays or changes the dead row.
 *
 * @example
 * const dlq = forwardDeadLetters(relay, nats, { subject: 'provisioning.dlq', logger });
 */
export function forwardDeadLetters(
  relay: Relay,
  nats: NatsPublisher,
  options: { subject: string; logger?: Logger; timeoutMs?: number },
): DeadLetterForwarder {
  const problem = natsSubjectProblem(options.subject);
  if (problem) throw new OutboxValidationError('subject', `${JSON.stringify(options.subject)} ${problem}`);
  const logger = (options.logger ?? NOOP_LOGGER).child({
    component: 'dead-letter-subject',
    subject: options.subject,
  });
  const timeoutMs = options.timeoutMs ?? DEFAULT_DEAD_LETTER_TIMEOUT_MS;
  const pending = new Set<Promise<void>>();
  const counts = { forwarded: 0, failed: 0 };
  const onDead = (message: OutboxMessage, reason: string, info: { deadReason: DeadReason }) => {
    const copy = nats
      .publishCopy(
        message,
        {
          subject: options.subject,
          msgId: `${message.messageId}:dead:${message.attempts}`,
          headers: {
            [OUTBOX_DEAD_REASON_HEADER]: info.deadReason,
            // Header values cannot hold line breaks; the whole text stays in last_error.
            [OUTBOX_LAST_ERROR_HEADER]: reason.replace(/[\r\n]+/g, ' ').slice(0, MAX_ERROR_HEADER_CHARS),
            [OUTBOX_ATTEMPTS_HEADER]: String(message.attempts),
            [OUTBOX_MESSAGE_ID_HEADER]: message.messageId,
          },
        },
        { signal: AbortSignal.timeout(timeoutMs), attempt: 1, logger },
      )
      .then(
        () => {
          counts.forwarded++;
        },
        (error: unknown) => {
          counts.failed++;
          logger.error(
            { messageId: message.messageId, deadReason: info.deadReason, err: describeError(error) },
            'could not publish the dead-letter copy; the message stays dead in the table',
          );
        },
      );
    pending.add(copy);
    void copy.finally(() => pending.delete(copy));
  };
  relay.on('dead', onDead);
  return {
    get forwarded() {
      return counts.forwarded;
    },
    get failed() {
      return counts.failed;
    },
    async idle() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    detach() {
      relay.off('dead', onDead);
    },
  };
}
