import { integer, oneOf, text } from './setting-parsers.js';
import { hidden, setting } from './setting.js';

/** libpq's `sslmode` values. */
export const PG_SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;

const WHEN = 'when DATABASE_URL is unset';

/**
 * libpq's standard connection variables, spread into `SETTINGS`: when DATABASE_URL is unset
 * and any of them is set, the binary builds its connection string from them (libpq-env.ts).
 */
export const LIBPQ_SETTINGS = {
  pgHost: setting({
    env: 'PGHOST',
    flag: 'pghost',
    parse: text({ min: 1, rule: 'a host name, address or socket directory' }),
    default: undefined,
    description: `database host or socket directory (${WHEN}; libpq default localhost)`,
  }),
  pgPort: setting({
    env: 'PGPORT',
    flag: 'pgport',
    parse: integer({ min: 1, max: 65_535 }),
    default: undefined,
    description: `database port (${WHEN}; libpq default 5432)`,
  }),
  pgDatabase: setting({
    env: 'PGDATABASE',
    flag: 'pgdatabase',
    parse: text({ min: 1, rule: 'a database name' }),
    default: undefined,
    description: `database name (${WHEN}; libpq default: the user name)`,
  }),
  pgUser: setting({
    env: 'PGUSER',
    flag: 'pguser',
    parse: text({ min: 1, rule: 'a user name' }),
    default: undefined,
    description: `database user (${WHEN})`,
  }),
  pgPassword: setting({
    env: 'PGPASSWORD',
    flag: 'pgpassword',
    parse: text({ min: 1, rule: 'a password' }),
    default: undefined,
    redact: hidden,
    description: `database password (${WHEN}; never printed)`,
  }),
  pgSslMode: setting({
    env: 'PGSSLMODE',
    flag: 'pgsslmode',
    parse: oneOf(PG_SSL_MODES),
    default: undefined,
    description: `libpq sslmode: ${PG_SSL_MODES.join(', ')} (${WHEN})`,
  }),
};
