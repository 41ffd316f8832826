/**
 * The logging interface the library writes to. It is the subset of pino's API we use,
 * so a pino logger fits as is; `NOOP_LOGGER` silences everything.
 *
 * @example
 * import { pino } from 'pino';
 * createRelay({ db, publishers, logger: pino({ level: 'debug' }) });
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/**
 * A logger that drops everything.
 *
 * @example
 * createRelay({ db, publishers, logger: NOOP_LOGGER });
 */
export const NOOP_LOGGER: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return NOOP_LOGGER;
  },
};
