import type { Logger } from './logger.js';
import type { OutboxMessage } from './message.js';
import type { TraceHeaders } from './tracing.js';

/**
 * What a publisher is told about the attempt it is making.
 */
export interface PublishContext {
  /** Aborted when the attempt deadline passes or the relay stops: stop work and reject. */
  readonly signal: AbortSignal;
  /** 1 on the first attempt. */
  readonly attempt: number;
  readonly logger: Logger;
  /**
   * The W3C trace context (`traceparent`, `tracestate`) of this attempt's span, set only while
   * OpenTelemetry tracing is on: send it along (as headers) so the receiver continues the trace.
   */
  readonly traceHeaders?: Readonly<TraceHeaders>;
}

/**
 * Delivers one outbox message somewhere. Resolve when delivered; throw
 * `TransientPublishError` to retry later (any other thrown value counts as transient too)
 * or `PermanentPublishError` to dead-letter now. A resolved value, if any, is stored
 * in the row's `result` column (e.g. the `.id` a router created).
 *
 * @example
 * class SlackPublisher implements Publisher {
 *   readonly name = 'slack';
 *   async publish(message: OutboxMessage, { signal }: PublishContext) {
 *     const res = await fetch(hookUrl, { method: 'POST', body: message.body, signal });
 *     if (res.status >= 500) throw new TransientPublishError(`slack answered ${res.status}`);
 *     if (!res.ok) throw new PermanentPublishError(`slack answered ${res.status}`);
 *   }
 * }
 */
export interface Publisher {
  readonly name: string;
  publish(message: OutboxMessage, context: PublishContext): Promise<unknown>;
  /**
   * How long one publish may take by this publisher's own deadline, when it has one (the
   * webhook's `timeoutMs`). The relay warns when its publish deadline would cut it short.
   */
  readonly timeoutMs?: number;
  /**
   * How many publishes at once this publisher handles well, when more than the relay's default
   * helps (NATS: 128, a PubAck round trip is cheap and more in flight is what reaches the raw
   * client's rate). A relay whose `concurrency` is not set runs the largest of its publishers'
   * values, never fewer than `DEFAULT_CONCURRENCY`; a set `concurrency` always wins.
   */
  readonly concurrency?: number;
  /** Releases connections; the relay calls it from `stop()`. */
  close?(): Promise<void>;
}
