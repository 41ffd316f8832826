import type { Logger } from '../core/foundation/logger.js';

/**
 * Wraps a logger so every message starts with `prefix`, children included.
 *
 * @example
 * prefixLogger(logger, '[Job:cleanup] ').info({}, 'done'); // msg "[Job:cleanup] done"
 */
export function prefixLogger(logger: Logger, prefix: string): Logger {
  return {
    debug: (obj, msg) => logger.debug(obj, `${prefix}${msg ?? ''}`),
    info: (obj, msg) => logger.info(obj, `${prefix}${msg ?? ''}`),
    warn: (obj, msg) => logger.warn(obj, `${prefix}${msg ?? ''}`),
    error: (obj, msg) => logger.error(obj, `${prefix}${msg ?? ''}`),
    child: (bindings) => prefixLogger(logger.child(bindings), prefix),
  };
}
