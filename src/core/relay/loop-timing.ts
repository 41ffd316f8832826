// The relay loop's timing: how soon it looks again while messages flow, after a wake-up, and
// how long a stop waits for aborted publishes. One place, so the loop in relay.ts reads as rules.

/**
 * Poll interval while messages are flowing (the last claim found some, but not a full batch):
 * a steady stream waits at most this long instead of `pollIntervalMs`. Idle relays still
 * poll every `pollIntervalMs`.
 */
export const BUSY_POLL_INTERVAL_MS = 10;
/** How long after the last claim that found messages the relay keeps polling at the busy interval. */
export const BUSY_WINDOW_MS = 200;
/**
 * A wake-up from `onAdded` arrives before the producer's COMMIT, so the claim it triggers may
 * not see the row yet. A woken claim that finds nothing looks again after these pauses.
 */
export const WAKE_RECHECK_MS = [1, 1, 2, 2, 4, 10] as const;
/** How long stop() waits for publishes it aborted to settle before leaving them to lease expiry. */
export const ABORT_GRACE_MS = 1_000;
