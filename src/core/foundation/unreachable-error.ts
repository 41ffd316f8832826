/** Node and undici codes of a connection that never reached a receiver. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  // A RouterOS connection that failed (refused, reset, no reply): the router, not the command.
  'ROS_TRANSPORT',
]);

/**
 * Whether a publish error (or any error in its `cause` chain) says the receiver could not be
 * reached at all: the destination is down, whichever message was sent. The circuit breaker
 * counts such failures as the destination's even when they come from one message (a router's
 * commands are one ordering key).
 *
 * @example
 * isUnreachable(new TransientPublishError('router "tower-3" unreachable', { cause: rosTransportError })) // true
 */
export function isUnreachable(error: unknown): boolean {
  let e: unknown = error;
  for (let depth = 0; depth < 6 && e !== null && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
