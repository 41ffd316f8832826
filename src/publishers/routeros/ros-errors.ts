import { OutboxError } from '../../core/foundation/errors.js';

/**
 * Stable codes of the errors a RouterOS connection throws; the publisher turns each into a
 * transient or permanent publish error, and callers of `RosConnection` switch on them.
 */
export type RosErrorCode = 'ROS_TRAP' | 'ROS_LOGIN_REJECTED' | 'ROS_TRANSPORT';

/**
 * The router refused a command with `!trap` (code `ROS_TRAP`); the connection itself is fine.
 *
 * @example
 * catch (e) { if (e instanceof RosTrapError && isNoSuchItemTrap(e.trapMessage)) return 'absent'; throw e; }
 */
export class RosTrapError extends OutboxError {
  declare readonly code: 'ROS_TRAP';

  constructor(
    readonly command: string,
    readonly trapMessage: string,
  ) {
    super('ROS_TRAP', `${command}: ${trapMessage}`);
  }
}

/**
 * The router rejected the API login: wrong user name or password (code `ROS_LOGIN_REJECTED`).
 *
 * @example
 * catch (e) { if (e instanceof RosLoginError) console.error('fix the device credentials'); }
 */
export class RosLoginError extends OutboxError {
  declare readonly code: 'ROS_LOGIN_REJECTED';

  constructor(message: string) {
    super('ROS_LOGIN_REJECTED', message);
  }
}

/**
 * The connection failed (code `ROS_TRANSPORT`): refused, reset, closed, `!fatal`, no reply
 * before our deadline, TLS. The connection is destroyed whenever this is thrown.
 * `certificate` marks TLS failures no retry can fix: certificate verification, a pin
 * mismatch, or no TLS cipher in common.
 *
 * @example
 * catch (e) { if (e instanceof RosTransportError && !e.certificate) retryLater(); }
 */
export class RosTransportError extends OutboxError {
  declare readonly code: 'ROS_TRANSPORT';

  constructor(
    message: string,
    readonly certificate = false,
    options?: { cause?: unknown },
  ) {
    super('ROS_TRANSPORT', message, options);
  }
}
