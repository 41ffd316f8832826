/**
 * Stable error codes. Callers switch on `error.code`, never on message text.
 */
export type OutboxErrorCode =
  | 'OUTBOX_VALIDATION'
  | 'PUBLISH_TRANSIENT'
  | 'PUBLISH_PERMANENT'
  | 'CONFIG_INVALID'
  | 'MIGRATION_FAILED'
  | 'CREDENTIALS_INVALID'
  /** `start()`/`runOnce()` on a relay after `stop()`, or the reason its publishes were aborted. */
  | 'RELAY_STOPPED'
  /** `runOnce()` on a scheduler after `stop()`, or the reason its running jobs were aborted. */
  | 'SCHEDULER_STOPPED'
  /** The binary's command line is wrong (exit 2). */
  | 'USAGE'
  /** A publisher found the destination gone (410): the relay pauses it instead of dead-lettering. */
  | 'DESTINATION_GONE'
  /** `retryDestinationNow` on a paused destination: resume it instead. */
  | 'DESTINATION_PAUSED'
  | (string & {});

/**
 * Base class of every error outbox-relay throws on purpose.
 *
 * @example
 * try { await outbox.add(trx, msg); } catch (e) {
 *   if (e instanceof OutboxError && e.code === 'OUTBOX_VALIDATION') return res.status(400).end();
 *   throw e;
 * }
 */
export class OutboxError extends Error {
  readonly code: OutboxErrorCode;

  constructor(code: OutboxErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * A message given to `outbox.add` (or config given to a constructor) is invalid.
 * `field` names the offending property, e.g. `payload` or `messages[3].type`.
 *
 * @example
 * catch (e) { if (e instanceof OutboxValidationError) console.log(e.field); }
 */
export class OutboxValidationError extends OutboxError {
  readonly field: string;
  /** What is wrong, without the field name (`must be ...`), for callers that name the field their own way. */
  readonly reason: string;

  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super('OUTBOX_VALIDATION', `${field}: ${message}`, options);
    this.field = field;
    this.reason = message;
  }
}

/**
 * Configuration is invalid; `problems` lists every problem found, not just the first.
 *
 * @example
 * throw new ConfigError(['BATCH_SIZE must be an integer 1..10000, got "abc"']);
 */
export class ConfigError extends OutboxError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(
      'CONFIG_INVALID',
      problems.length === 1 ? problems[0]! : `invalid configuration:\n  - ${problems.join('\n  - ')}`,
    );
    this.problems = problems;
  }
}

/**
 * The delivery failed but may succeed later: the relay retries with backoff,
 * or after `retryAfterMs` when the receiver said when (HTTP Retry-After).
 *
 * @example
 * if (res.status === 503) throw new TransientPublishError('receiver unavailable', { retryAfterMs: 30_000, status: 503 });
 */
export class TransientPublishError extends OutboxError {
  readonly retryAfterMs: number | undefined;
  /** The receiver's HTTP status, when it answered one (the attempt log records it). */
  readonly status: number | undefined;

  constructor(message: string, options?: { retryAfterMs?: number; status?: number; cause?: unknown }) {
    super('PUBLISH_TRANSIENT', message, options);
    this.retryAfterMs = options?.retryAfterMs;
    this.status = options?.status;
  }
}

/**
 * The delivery can never succeed as it is (bad request, unknown destination, gone):
 * the relay dead-letters the message at once with this error's message as `last_error`.
 *
 * @example
 * if (res.status === 410) throw new PermanentPublishError('endpoint is gone (410)', { status: 410 });
 */
export class PermanentPublishError extends OutboxError {
  /** The receiver's HTTP status, when it answered one (the attempt log records it). */
  readonly status: number | undefined;

  constructor(message: string, options?: { status?: number; cause?: unknown }) {
    super('PUBLISH_PERMANENT', message, options);
    this.status = options?.status;
  }
}

/**
 * The destination itself is gone (HTTP 410): the relay keeps the message waiting and pauses the
 * destination for every relay sharing the table, with reason `gone`, until an operator resumes
 * it (docs/destinations.md). Any publisher may throw it.
 *
 * @example
 * if (res.status === 410) throw new DestinationGoneError('webhook answered 410 Gone');
 */
export class DestinationGoneError extends OutboxError {
  /** The receiver's HTTP status, when it answered one (the attempt log records it). */
  readonly status: number | undefined;

  constructor(message: string, options?: { status?: number; cause?: unknown }) {
    super('DESTINATION_GONE', message, options);
    this.status = options?.status;
  }
}

/**
 * Renders anything thrown (including non-Error values) as a one-line reason for `last_error`.
 *
 * @example
 * describeError(new Error('boom')) // 'Error: boom'
 */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const prefix =
      typeof code === 'string' && !error.name.includes(code) ? `${error.name}[${code}]` : error.name;
    return error.message ? `${prefix}: ${error.message}` : prefix;
  }
  if (typeof error === 'string') return error;
  try {
    return `non-Error thrown: ${JSON.stringify(error) ?? String(error)}`;
  } catch {
    return `non-Error thrown: ${Object.prototype.toString.call(error)}`;
  }
}
