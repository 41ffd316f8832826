/** Waiting longer than this is behind: `slow`, or `unserved` when nothing was ever attempted. */
export const SLOW_AFTER_SECONDS = 60;

/** Waiting longer than this with no delivery in the last 5 minutes is `stuck`. */
export const STUCK_AFTER_SECONDS = 5 * 60;

/** A destination's state in plain words, worst first. */
export type DestinationState =
  | 'paused'
  | 'open'
  | 'half-open'
  | 'throttled'
  | 'unserved'
  | 'stuck'
  | 'failing'
  | 'slow'
  | 'flowing';

/** What the rule reads about one destination. */
export interface DestinationFacts {
  /** Paused for every relay (docs/destinations.md): nothing is sent, whatever the counts say. */
  paused?: boolean;
  /** Its circuit breaker (docs/destinations.md#circuit-breaker), when not closed. */
  breaker?: 'open' | 'half-open';
  /** Messages waiting on a rate limit or concurrency cap (docs/destinations.md). */
  throttled?: number;
  /** Pending + in flight. */
  waiting: number;
  /** Of those, rows claimed at least once. */
  attempted: number;
  /** Age of the oldest waiting row, 0 when none. */
  oldestWaitingSeconds: number;
  delivered5m: number;
  /** Failed attempts and deaths in the last 5 minutes. */
  failed5m: number;
  /** Messages that died in the last 5 minutes (any process). */
  dead5m: number;
}

/**
 * The rule behind each state, in the order it is checked; the status page's legend shows these
 * same sentences, so the words and the code cannot drift apart.
 */
export const DESTINATION_STATE_RULES: ReadonlyArray<{ state: DestinationState; rule: string }> = [
  {
    state: 'paused',
    rule: 'paused for every relay, by an operator or by a 410 Gone answer (reason gone): nothing is sent and every message is kept until it is resumed or its pause time passes',
  },
  {
    state: 'open',
    rule: 'its circuit breaker is open: it failed transiently at a high rate, so its messages wait (no attempts used, none dead-lettered) and one probe message is sent per probe interval; Retry now sends the probe at once, Resume closes it',
  },
  {
    state: 'half-open',
    rule: 'its circuit breaker is open and a relay is sending the probe message now: when it gets through, the breaker closes and every waiting message is due',
  },
  {
    state: 'throttled',
    rule: 'messages wait on a rate limit or concurrency cap (its limit is shown): they go out as fast as the limit allows, never charged an attempt for the wait',
  },
  {
    state: 'unserved',
    rule: `messages wait over ${SLOW_AFTER_SECONDS} s and none was ever attempted: no running relay has a publisher for this destination`,
  },
  {
    state: 'stuck',
    rule: `the oldest message waits over ${STUCK_AFTER_SECONDS / 60} min and nothing was delivered in the last 5 min`,
  },
  {
    state: 'failing',
    rule: 'in the last 5 min attempts failed and none was delivered, or at least as many messages died as were delivered',
  },
  {
    state: 'slow',
    rule: `the oldest message waits over ${SLOW_AFTER_SECONDS} s, but deliveries go through`,
  },
  { state: 'flowing', rule: 'none of the above: delivering, or nothing to do' },
];

/**
 * Names a destination's state from its counts (see DESTINATION_STATE_RULES).
 *
 * @example
 * destinationState({ waiting: 40, attempted: 40, oldestWaitingSeconds: 3600, delivered5m: 0, failed5m: 12, dead5m: 0 }) // 'stuck'
 */
export function destinationState(f: DestinationFacts): DestinationState {
  if (f.paused) return 'paused';
  if (f.breaker) return f.breaker;
  if ((f.throttled ?? 0) > 0) return 'throttled';
  if (f.waiting > 0 && f.attempted === 0 && f.oldestWaitingSeconds > SLOW_AFTER_SECONDS) return 'unserved';
  if (f.waiting > 0 && f.oldestWaitingSeconds > STUCK_AFTER_SECONDS && f.delivered5m === 0) return 'stuck';
  // Deaths count on their own: half the messages dying is an outage however many get through.
  if ((f.failed5m > 0 && f.delivered5m === 0) || (f.dead5m > 0 && f.dead5m >= f.delivered5m))
    return 'failing';
  if (f.waiting > 0 && f.oldestWaitingSeconds > SLOW_AFTER_SECONDS) return 'slow';
  return 'flowing';
}
