import { type DestinationStream, pino } from 'pino';
import pretty from 'pino-pretty';
import type { Logger } from '../../core/foundation/logger.js';

/** Log fields that may carry secrets; pino replaces them before a line is written. */
export const REDACTED_LOG_PATHS = [
  'password',
  'secret',
  'secrets',
  'token',
  'adminToken',
  'credentialsKey',
  'authorization',
  'headers.authorization',
  '*.password',
  '*.secret',
  '*.secrets',
  '*.token',
  '*.adminToken',
  '*.credentialsKey',
  '*.authorization',
];

/** A pino logger as the CLI uses it (the core `Logger` plus pino's extras). */
export type CliLogger = pino.Logger;

/**
 * The binary's logger: JSON lines by default, pretty when asked (TTY or LOG_PRETTY), written
 * synchronously so nothing is lost when the process exits right after a line.
 *
 * @example
 * const log = createCliLogger({ level: 'info', pretty: process.stdout.isTTY, fd: 1 });
 */
export function createCliLogger(options: { level: string; pretty: boolean; fd?: 1 | 2 }): CliLogger {
  const fd = options.fd ?? 1;
  const destination: DestinationStream = options.pretty
    ? pretty({
        destination: fd,
        sync: true,
        colorize: fd === 1 ? process.stdout.isTTY : process.stderr.isTTY,
        translateTime: 'HH:MM:ss.l',
        ignore: 'pid,hostname',
      })
    : pino.destination({ fd, sync: true });
  return pino(
    {
      name: 'outbox-relay',
      level: options.level,
      redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' },
    },
    destination,
  );
}

/**
 * The CLI logger seen through the library's `Logger` interface (pino fits it as is).
 *
 * @example
 * createRelay({ db, publishers, logger: asCoreLogger(log) });
 */
export function asCoreLogger(logger: CliLogger): Logger {
  return logger as unknown as Logger;
}
