import { OutboxValidationError } from './errors.js';

/** PostgreSQL's identifier length limit (NAMEDATALEN - 1). */
const MAX_IDENTIFIER_BYTES = 63;

/** The schema outbox-relay uses when none is given. */
export const DEFAULT_SCHEMA = 'outbox';

/**
 * Validates a schema name from config and returns it double-quoted for SQL. Only
 * lower-case letters, digits and `_` are accepted (starting with a letter or `_`), so a
 * name can never inject SQL and never needs case-sensitive quoting by operators.
 *
 * @example
 * quoteSchema('outbox') // '"outbox"'
 * quoteSchema('x; drop table y') // throws OutboxValidationError
 */
export function quoteSchema(schema: string, field = 'schema'): string {
  if (
    typeof schema !== 'string' ||
    !/^[a-z_][a-z0-9_]*$/.test(schema) ||
    schema.length > MAX_IDENTIFIER_BYTES
  ) {
    throw new OutboxValidationError(
      field,
      `must be a lower-case SQL identifier (letters, digits, _; at most ${MAX_IDENTIFIER_BYTES} characters), got ${JSON.stringify(schema)}`,
    );
  }
  return `"${schema}"`;
}
