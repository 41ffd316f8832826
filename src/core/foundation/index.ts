/**
 * The foundation every other room stands on: errors, the Clock, Logger and Publisher seams,
 * the message shape, database handles (`Queryable`), schema names, option checks.
 *
 * @example
 * import { OutboxError, type Clock } from '../foundation/index.js';
 */
export {
  AGGREGATE_ID_HEADER,
  AGGREGATE_TYPE_HEADER,
  aggregateOf,
  BODY_FORMATS,
  type BodyFormat,
  type BodyFormatOptions,
  DEFAULT_CLOUDEVENTS_SOURCE,
  type FormattedBody,
  formatBody,
  parseBodyFormat,
} from './body-format.js';
export { type Clock, epochMs, SYSTEM_CLOCK, SystemClock, sleep } from './clock.js';
export { guardConnectionErrors } from './connection-error-guard.js';
export {
  ConfigError,
  describeError,
  DestinationGoneError,
  OutboxError,
  type OutboxErrorCode,
  OutboxValidationError,
  PermanentPublishError,
  TransientPublishError,
} from './errors.js';
export type { JsonEvents, Jsonable, JsonValue } from './json-value.js';
export { type Logger, NOOP_LOGGER } from './logger.js';
export {
  MAX_ATTEMPTS_BOUNDS,
  MAX_ATTEMPTS_LIMIT,
  type MessageKind,
  type MessageStatus,
  type OutboxMessage,
} from './message.js';
export { type IntBounds, positiveOption, requireInt } from './option-checks.js';
export { type Destination, parseDestination } from './parse-destination.js';
export { isMessageRef, type MessageRef, parseMessageRef, splitMessageRefs } from './parse-message-ref.js';
export type { PublishContext, Publisher } from './publisher.js';
export { type Queryable, type RunSql, sqlRunner } from './queryable.js';
export { repeatUntilShort } from './repeat-until-short.js';
export { DEFAULT_SCHEMA, quoteSchema } from './schema-name.js';
export { defaultWorkerId } from './worker-id.js';
