import type { PublishContext, Publisher } from '../foundation/publisher.js';
import type { ClaimedMessage } from './claimed-message.js';
import {
  DestinationGoneError,
  describeError,
  PermanentPublishError,
  TransientPublishError,
} from '../foundation/errors.js';
import type { Logger } from '../foundation/logger.js';
import { type SendSpan, startSendSpan, type TraceParentMode, tracingActive } from '../foundation/tracing.js';

/** A claimed message and its lease, from claim to write-back. */
export interface Job {
  message: ClaimedMessage;
  /** performance.now() by which the lease surely ends: measured from before the claim. */
  leaseEnd: number;
  started: boolean;
  /** performance.now() at which a running publish is cut off (the relay's `OrderedDeadlines`). */
  deadline: number;
  /** Set while the publish runs: cuts it off now as timed out. */
  expire?: (() => void) | undefined;
  /** Made on first read of the publish context's signal: most publishes never read it. */
  controller?: AbortController;
  /** Set when the attempt was cut off (deadline or stop), even before any signal existed. */
  abortReason?: unknown;
  /** Aborted by `stop()`: unless it delivered anyway, the attempt is given back. */
  stopped?: boolean;
  /** The probe of an open circuit breaker: its outcome closes or reopens the destination. */
  probe?: boolean;
}

/** What one attempt came to; the write-back turns it into a row update. */
export type Outcome =
  | { kind: 'delivered'; job: Job; result: unknown; startedAt: number; durationMs: number }
  | {
      kind: 'failed';
      job: Job;
      /** performance.now() when the attempt started: its age when written goes to the attempt log. */
      startedAt: number;
      error: unknown;
      reason: string;
      retryAfterMs?: number;
      permanent: boolean;
      /** No publisher for its destination (only when the relay claims every destination). */
      unroutable?: boolean;
      /** The destination is gone (`DestinationGoneError`): hold the message, pause the destination. */
      gone?: boolean;
      durationMs: number;
    }
  /** Never started, or stopped before it delivered: give the row back with its attempt. */
  | { kind: 'released'; job: Job; durationMs?: undefined };

/**
 * Aborts an attempt: its signal now, or at once when the publisher reads it later.
 *
 * @example
 * abortJob(job, new Error('relay stopping'));
 */
export function abortJob(job: Job, reason: unknown): void {
  if (job.abortReason !== undefined) return;
  job.abortReason = reason;
  job.controller?.abort(reason);
}

/** The attempt's abort signal, made on first read. */
function signalOf(job: Job): AbortSignal {
  if (!job.controller) {
    job.controller = new AbortController();
    if (job.abortReason !== undefined) job.controller.abort(job.abortReason);
  }
  return job.controller.signal;
}

/**
 * The context of one publish. AbortController and child logger cost more than a no-op
 * publish (bench/drain.ts profile): they are made only when the publisher reads them, and so
 * are the trace headers (bench/tracing.ts). Getters on an object literal are own enumerable
 * properties, so `{ ...context }` still works. A second literal for a traced attempt rather
 * than a `defineProperty` of `traceHeaders`: that call alone cost 1 µs per attempt.
 */
function publishContext(
  job: Job,
  logger: Logger,
  publisherName: string,
  span: SendSpan | undefined,
): PublishContext {
  let child: Logger | undefined;
  if (span === undefined) {
    return {
      attempt: job.message.attempts,
      get signal() {
        return signalOf(job);
      },
      get logger() {
        child ??= logger.child({ messageId: job.message.messageId, publisher: publisherName });
        return child;
      },
    };
  }
  return {
    attempt: job.message.attempts,
    get traceHeaders() {
      return span.headers;
    },
    get signal() {
      return signalOf(job);
    },
    get logger() {
      child ??= logger.child({ messageId: job.message.messageId, publisher: publisherName });
      return child;
    },
  };
}

/**
 * Runs one publish and calls `done` once with what happened, never synchronously and never
 * throwing. Its deadline is the caller's: `job.expire()` (set here while the publish runs) cuts it
 * off as timed out, aborting its signal. No async function, promise wrapper or timer per
 * attempt: the publish's own promise and one `then` (bench/notes/relay-cpu.md).
 * `publisher` undefined means no route matched (`routes` names the configured ones).
 *
 * @example
 * attemptPublish(job, publisher, { logger, publishTimeoutMs: 30_000, routes: 'webhook', traceParent: 'when-absent' }, finished);
 */
export function attemptPublish(
  job: Job,
  publisher: Publisher | undefined,
  options: { logger: Logger; publishTimeoutMs: number; routes: string; traceParent: TraceParentMode },
  done: (outcome: Outcome) => void,
): void {
  const message = job.message;
  if (!publisher) {
    const outcome: Outcome = {
      kind: 'failed',
      job,
      error: undefined,
      reason: `no publisher for destination "${message.destination}" (configured: ${options.routes})`,
      permanent: true,
      unroutable: true,
      startedAt: performance.now(),
      durationMs: 0,
    };
    queueMicrotask(() => done(outcome));
    return;
  }
  const started = performance.now();
  // One global lookup when no tracer provider is registered; a span per attempt when one is.
  const span = tracingActive()
    ? startSendSpan({
        system: publisher.name,
        destination: message.destination,
        messageId: message.messageId,
        attempt: message.attempts,
        headers: message.headers,
        mode: options.traceParent,
      })
    : undefined;
  let settled = false;
  const delivered = (result: unknown): void => {
    if (settled) return;
    settled = true;
    job.expire = undefined;
    span?.end({ result });
    done({ kind: 'delivered', job, result, startedAt: started, durationMs: performance.now() - started });
  };
  const failed = (error: unknown): void => {
    if (settled) return;
    settled = true;
    job.expire = undefined;
    span?.end({ error });
    done(failedOutcome(job, error, started));
  };
  // A publisher that ignores its signal must not keep the attempt open forever.
  job.expire = () => {
    const error = new TransientPublishError(`publish timed out after ${options.publishTimeoutMs} ms`);
    abortJob(job, error);
    failed(error);
  };
  try {
    const context = publishContext(job, options.logger, publisher.name, span);
    // Promise.resolve of a native promise is that promise: no allocation for the usual case.
    Promise.resolve(publisher.publish(message, context)).then(delivered, failed);
  } catch (error) {
    queueMicrotask(() => failed(error)); // thrown synchronously: the same as a rejection
  }
}

function failedOutcome(job: Job, error: unknown, started: number): Outcome {
  // Stopping is the relay's doing, not the message's: no attempt is used up.
  if (job.stopped) return { kind: 'released', job };
  const retryAfterMs = error instanceof TransientPublishError ? error.retryAfterMs : undefined;
  return {
    kind: 'failed',
    job,
    error,
    reason: describeError(error),
    permanent: error instanceof PermanentPublishError,
    ...(error instanceof DestinationGoneError ? { gone: true } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    startedAt: started,
    durationMs: performance.now() - started,
  };
}
