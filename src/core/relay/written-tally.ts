import type { Logger } from '../foundation/logger.js';
import type { DestinationFlow } from './destination-flow.js';
import type { FailureSummary } from './failure-summary.js';
import type { RelayCounters } from './relay-api.js';
import type { RelayEventEmitter } from './relay-events.js';
import type { Written } from './write-back.js';

/** The `retryAt` of a `failed` event for a 410 Gone: the latest Date (it waits for a resume, not a time). */
const GONE_RETRY_AT = new Date(8.64e15);

/** What `tallyWritten` counts into and announces through: the relay's parts. */
export interface TallyTarget {
  totals: Omit<RelayCounters, 'listenerErrors'>;
  failures: FailureSummary;
  events: RelayEventEmitter;
  flow: DestinationFlow;
  logger: Logger;
}

/**
 * Counts and announces one outcome the database accepted: the relay's counters, its failure
 * summary, its events, and the flow control's (a 410's pause, an ops event for a death).
 *
 * @example
 * tallyWritten({ kind: 'delivered', message, result, durationMs: 3 }, relayParts);
 */
export function tallyWritten(w: Written, t: TallyTarget): void {
  if (w.kind === 'paused') {
    // A 410 Gone is a failed attempt for counters and metrics; its message waits for a resume.
    t.totals.retried++;
    t.failures.failed(w.message.destination, w.error);
    t.events.notify('failed', w.message, w.error, { retryAt: GONE_RETRY_AT, durationMs: w.durationMs });
    t.flow.paused(w);
  } else if (w.kind === 'delivered') {
    t.totals.delivered++;
    t.failures.delivered(w.message.destination);
    t.events.notify('delivered', w.message, { durationMs: w.durationMs, result: w.result });
  } else if (w.kind === 'duplicate') {
    t.totals.duplicates++;
    t.events.notify('duplicate', w.message);
  } else if (w.kind === 'failed') {
    t.totals.retried++;
    t.failures.failed(w.message.destination, w.error);
    t.events.notify('failed', w.message, w.error, { retryAt: w.retryAt, durationMs: w.durationMs });
  } else {
    t.totals.dead++;
    if (w.deadReason === 'lease_expired')
      t.logger.warn({ messageId: w.message.messageId, reason: w.reason }, 'dead-lettered by the claim');
    t.events.notify('dead', w.message, w.reason, { deadReason: w.deadReason });
    t.flow.dead(w.message, w.reason, w.deadReason);
  }
}
