import { PermanentPublishError } from '../../core/foundation/errors.js';
import type { OutboxMessage } from '../../core/foundation/message.js';

/** Subject prefix of messages whose destination names no subject: `<prefix>.<type>`. */
export const DEFAULT_NATS_SUBJECT_PREFIX = 'outbox';

/** Builds the subject of a message whose destination names none (destination `nats`). */
export type NatsSubjectFn = (message: OutboxMessage) => string;

/**
 * Why `subject` cannot be published to, or undefined when it can: NATS subjects are
 * dot-separated non-empty tokens without whitespace, and a publish subject has no wildcards.
 *
 * @example
 * natsSubjectProblem('orders.created') // undefined
 * natsSubjectProblem('orders.*') // 'has a wildcard token "*"'
 */
export function natsSubjectProblem(subject: string): string | undefined {
  if (subject === '') return 'is empty';
  if (/[\s\0]/.test(subject)) return 'contains whitespace or NUL';
  for (const token of subject.split('.')) {
    if (token === '') return 'has an empty token (leading, trailing or double dot)';
    if (token === '*' || token === '>') return `has a wildcard token "${token}"`;
  }
  return undefined;
}

/**
 * The subject a message goes to: the part of its destination after the publisher's name
 * (`nats:orders.created` -> `orders.created`), else `subject(message)`. An unusable subject
 * is a permanent failure: retrying never makes it valid.
 *
 * @example
 * subjectFor(message, 'nats', (m) => `outbox.${m.type}`)
 */
export function subjectFor(message: OutboxMessage, publisherName: string, subject: NatsSubjectFn): string {
  const destination = message.destination;
  const named =
    destination.startsWith(`${publisherName}:`) && destination.length > publisherName.length + 1
      ? destination.slice(publisherName.length + 1)
      : undefined;
  const result = named ?? subject(message);
  if (typeof result !== 'string') {
    throw new PermanentPublishError(`the subject function returned ${typeof result}, not a subject string`);
  }
  const problem = natsSubjectProblem(result);
  if (problem !== undefined) {
    throw new PermanentPublishError(
      `subject ${JSON.stringify(result)} ${problem} (destination ${JSON.stringify(destination)}, type ${JSON.stringify(message.type)})`,
    );
  }
  return result;
}
