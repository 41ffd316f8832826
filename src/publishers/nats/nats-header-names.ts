// The headers every published message carries: the contract consumers read (README "Headers").
// Kept apart from the code that builds them so settings can name the defaults without loading the client.

/** JetStream's de-duplication header: the message id, so a re-publish inside the window is dropped. */
export const NATS_MSG_ID_HEADER = 'Nats-Msg-Id';
/** The stream a publish must land in (`expectStream`); the server refuses it otherwise. */
export const NATS_EXPECTED_STREAM_HEADER = 'Nats-Expected-Stream';
/** The message's `type`. */
export const OUTBOX_TYPE_HEADER = 'Outbox-Type';
/** `event` or `command`. */
export const OUTBOX_KIND_HEADER = 'Outbox-Kind';
/** The message's `tenantId`; absent when it has none. */
export const OUTBOX_TENANT_HEADER = 'Outbox-Tenant-Id';
/** The message's `orderingKey`; absent when it has none. */
export const OUTBOX_ORDERING_KEY_HEADER = 'Outbox-Ordering-Key';
/** On a dead-letter copy: why the message died (its `dead_reason`). */
export const OUTBOX_DEAD_REASON_HEADER = 'Outbox-Dead-Reason';
/** On a dead-letter copy: the error words (`last_error`), on one line, cut at 1024 characters. */
export const OUTBOX_LAST_ERROR_HEADER = 'Outbox-Last-Error';
/** On a dead-letter copy: the attempts it had when it died. */
export const OUTBOX_ATTEMPTS_HEADER = 'Outbox-Attempts';
/** On a dead-letter copy: the original message id (its own `Nats-Msg-Id` is `<id>:dead:<attempts>`). */
export const OUTBOX_MESSAGE_ID_HEADER = 'Outbox-Message-Id';
/** Every header the message was added with travels as `<this prefix><name>`. */
export const DEFAULT_NATS_HEADER_PREFIX = 'Outbox-Header-';
