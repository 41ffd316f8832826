// The `outbox-relay/nats` entry: JetStream delivery. Only apps that import it load the NATS client.
export { natsConnectOptions } from './nats-connect-options.js';
export {
  DEFAULT_DEAD_LETTER_TIMEOUT_MS,
  type DeadLetterForwarder,
  forwardDeadLetters,
} from './nats-dead-letters.js';
export {
  classifyNatsError,
  type NatsPublishFailure,
} from './nats-error-classifier.js';
export {
  DEFAULT_NATS_HEADER_PREFIX,
  NATS_EXPECTED_STREAM_HEADER,
  NATS_MSG_ID_HEADER,
  OUTBOX_ATTEMPTS_HEADER,
  OUTBOX_DEAD_REASON_HEADER,
  OUTBOX_KIND_HEADER,
  OUTBOX_LAST_ERROR_HEADER,
  OUTBOX_MESSAGE_ID_HEADER,
  OUTBOX_ORDERING_KEY_HEADER,
  OUTBOX_TENANT_HEADER,
  OUTBOX_TYPE_HEADER,
} from './nats-header-names.js';
export { natsHeaders, natsHeadersBytes } from './nats-headers.js';
export { type NatsCopy, NatsPublisher, type NatsPublishResult } from './nats-publisher.js';
export {
  DEFAULT_NATS_CONNECT_TIMEOUT_MS,
  DEFAULT_NATS_CONNECTION_NAME,
  DEFAULT_NATS_RECONNECT_WAIT_MS,
  DEFAULT_NATS_TIMEOUT_MS,
  type NatsConnectionSettings,
  type NatsPublisherOptions,
  type NatsTlsOptions,
  type ResolvedNatsOptions,
  resolveNatsOptions,
} from './nats-publisher-options.js';
export {
  DEFAULT_NATS_SUBJECT_PREFIX,
  type NatsSubjectFn,
  natsSubjectProblem,
  subjectFor,
} from './nats-subject.js';
