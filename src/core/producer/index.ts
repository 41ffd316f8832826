/**
 * The producer: `createOutbox` writes messages in the caller's transaction, validated first.
 *
 * @example
 * import { createOutbox } from '../producer/index.js';
 */
export {
  createOutbox,
  DEFAULT_DESTINATION,
  DEFAULT_MAX_ATTEMPTS,
  type DestinationOf,
  type EventMap,
  type NewCommand,
  type NewMessage,
  type Outbox,
  type OutboxOptions,
  type Route,
} from './outbox.js';
export { uuidV7 } from './uuid-v7.js';
export { MAX_PAYLOAD_BYTES } from './validate-message.js';
