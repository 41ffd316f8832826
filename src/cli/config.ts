import { hostname } from 'node:os';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import {
  DEFAULT_BATCH_SIZE,
  DEFAULT_CONCURRENCY,
  DEFAULT_LEASE_MS,
  DEFAULT_POLL_INTERVAL_MS,
} from '../core/relay.js';
import { cronProblem } from '../jobs/cron-expression.js';

/** Publishers the binary can build from env. */
export const PUBLISHER_TYPES = ['console', 'webhook', 'routeros'] as const;
/** One of `PUBLISHER_TYPES`. */
export type PublisherType = (typeof PUBLISHER_TYPES)[number];

/** What `start` runs. */
export type WorkerMode = 'relay' | 'jobs' | 'all';

/** The binary's whole configuration, validated. Built only by `loadConfig`. */
export interface CliConfig {
  databaseUrl: string | undefined;
  schema: string;
  publisherTypes: PublisherType[];
  webhookUrl: string | undefined;
  webhookSecrets: string[];
  webhookAllowPrivate: boolean;
  credentialsKey: string | undefined;
  enableJobs: boolean;
  relaySchedule: 'continuous' | 'cron';
  relayCron: string;
  cleanupCron: string;
  retentionDays: number;
  enableRetryDead: boolean;
  retryCron: string;
  workerId: string;
  batchSize: number;
  concurrency: number;
  pollIntervalMs: number;
  leaseMs: number;
  maxRetries: number;
  workerMode: WorkerMode;
  workerRunOnce: boolean;
  httpPort: number | undefined;
  httpHost: string;
  adminToken: string | undefined;
  logLevel: string;
  logPretty: boolean;
  shutdownTimeoutMs: number;
}

/** Where a setting's effective value came from (shown by `outbox-relay config`). */
export type SettingSource = 'flag' | 'env' | 'default';

/** One environment variable of the binary, its flag, its default and its rule. */
export interface Setting {
  /** The environment variable (the contract existing deployments use). */
  readonly env: string;
  /** The flag that overrides it, without `--`. */
  readonly flag: string;
  readonly key: keyof CliConfig;
  /** Default as text, for help and README; undefined = unset. */
  readonly defaultText: string | undefined;
  readonly description: string;
  readonly secret?: boolean;
  readonly boolean?: boolean;
  /** Parses the raw text; returns a problem text (without the variable name) on failure. */
  parse(raw: string): { ok: true; value: unknown } | { ok: false; problem: string };
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/** Applies a zod schema and words its failure as `must be <rule>, got "<raw>"`. */
function schemaParser<T>(schema: z.ZodType<T>, rule: string, secret = false): Setting['parse'] {
  return (raw) => {
    const result = schema.safeParse(raw);
    if (result.success) return { ok: true, value: result.data };
    return { ok: false, problem: `must be ${rule}, got ${secret ? '[redacted]' : JSON.stringify(raw)}` };
  };
}

function int(min: number, max: number): Setting['parse'] {
  return schemaParser(
    z
      .string()
      .trim()
      .regex(/^-?\d+$/)
      .transform(Number)
      .pipe(z.number().int().min(min).max(max)),
    `an integer ${min}..${max}`,
  );
}

const bool: Setting['parse'] = schemaParser(
  z
    .string()
    .trim()
    .toLowerCase()
    .refine((v) => TRUE.has(v) || FALSE.has(v))
    .transform((v) => TRUE.has(v)),
  'true or false',
);

function oneOf<const T extends string>(values: readonly T[]): Setting['parse'] {
  return schemaParser(
    z
      .string()
      .trim()
      .pipe(z.enum(values as [T, ...T[]])),
    `one of ${values.join(', ')}`,
  );
}

const cronParser: Setting['parse'] = (raw) => {
  const problem = cronProblem(raw);
  return problem
    ? { ok: false, problem: `${JSON.stringify(raw)} is not a valid cron expression (${problem})` }
    : { ok: true, value: raw.trim() };
};

const httpUrl = schemaParser(
  z
    .string()
    .trim()
    .refine((v) => {
      try {
        const u = new URL(v);
        return u.protocol === 'http:' || u.protocol === 'https:';
      } catch {
        return false;
      }
    }),
  'an http(s) URL',
);

const SETTINGS_LIST: Setting[] = [
  {
    env: 'DATABASE_URL',
    flag: 'database-url',
    key: 'databaseUrl',
    defaultText: undefined,
    description: 'PostgreSQL connection string (required except for demo)',
    secret: true,
    parse: (raw) => {
      try {
        const u = new URL(raw.trim());
        if (u.protocol === 'postgres:' || u.protocol === 'postgresql:')
          return { ok: true, value: raw.trim() };
      } catch {}
      return { ok: false, problem: 'must be a postgres:// or postgresql:// URL' };
    },
  },
  {
    env: 'OUTBOX_SCHEMA',
    flag: 'schema',
    key: 'schema',
    defaultText: 'outbox',
    description: 'schema of the outbox tables',
    parse: schemaParser(
      z
        .string()
        .trim()
        .regex(/^[a-z_][a-z0-9_]{0,62}$/),
      'a lower-case SQL identifier (letters, digits, _)',
    ),
  },
  {
    env: 'OUTBOX_PUBLISHER_TYPE',
    flag: 'publisher-type',
    key: 'publisherTypes',
    defaultText: 'console',
    description: `publishers to run: ${PUBLISHER_TYPES.join(', ')} (comma list; the first also serves destination "default")`,
    parse: schemaParser(
      z
        .string()
        .transform((v) => [...new Set(v.split(',').map((s) => s.trim().toLowerCase()))].filter(Boolean))
        .pipe(z.array(z.enum(PUBLISHER_TYPES)).min(1)),
      `a comma list of ${PUBLISHER_TYPES.join(', ')}`,
    ),
  },
  {
    env: 'OUTBOX_WEBHOOK_URL',
    flag: 'webhook-url',
    key: 'webhookUrl',
    defaultText: undefined,
    description: 'webhook endpoint (required with the webhook publisher)',
    parse: httpUrl,
  },
  {
    env: 'OUTBOX_WEBHOOK_SECRET',
    flag: 'webhook-secret',
    key: 'webhookSecrets',
    defaultText: undefined,
    description: 'whsec_<base64> signing secret(s), comma-separated for rotation (current first)',
    secret: true,
    parse: schemaParser(
      z
        .string()
        .transform((v) =>
          v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        )
        .pipe(z.array(z.string().regex(/^whsec_[A-Za-z0-9+/=]{16,}$/)).min(1)),
      'one or more comma-separated whsec_<base64> secrets',
      true,
    ),
  },
  {
    env: 'OUTBOX_WEBHOOK_ALLOW_PRIVATE',
    flag: 'webhook-allow-private',
    key: 'webhookAllowPrivate',
    defaultText: 'false',
    description: 'let webhooks reach loopback/private addresses (the SSRF guard refuses them otherwise)',
    boolean: true,
    parse: bool,
  },
  {
    env: 'OUTBOX_CREDENTIALS_KEY',
    flag: 'credentials-key',
    key: 'credentialsKey',
    defaultText: undefined,
    description: 'key for device passwords: 32 bytes as base64 or hex (RouterOS)',
    secret: true,
    parse: (raw) => {
      const v = raw.trim();
      const bytes = /^[0-9a-fA-F]{64}$/.test(v)
        ? 32
        : /^[A-Za-z0-9+/_-]+=*$/.test(v)
          ? Buffer.from(v, 'base64').length
          : 0;
      return bytes === 32
        ? { ok: true, value: v }
        : { ok: false, problem: 'must be 32 bytes as base64 or 64 hex digits' };
    },
  },
  {
    env: 'ENABLE_JOBS',
    flag: 'enable-jobs',
    key: 'enableJobs',
    defaultText: 'true',
    description: 'run the cron jobs in `start`',
    boolean: true,
    parse: bool,
  },
  {
    env: 'RELAY_SCHEDULE',
    flag: 'relay-schedule',
    key: 'relaySchedule',
    defaultText: 'continuous',
    description:
      'continuous: the relay polls all the time; cron: one drain per OUTBOX_CRON tick (the `relay` job)',
    parse: oneOf(['continuous', 'cron']),
  },
  {
    env: 'OUTBOX_CRON',
    flag: 'outbox-cron',
    key: 'relayCron',
    defaultText: '* * * * *',
    description: 'relay round when not running continuously (RELAY_SCHEDULE=cron)',
    parse: cronParser,
  },
  {
    env: 'CLEANUP_CRON',
    flag: 'cleanup-cron',
    key: 'cleanupCron',
    defaultText: '0 3 * * *',
    description: 'when the cleanup job deletes old delivered rows',
    parse: cronParser,
  },
  {
    env: 'RETENTION_DAYS',
    flag: 'retention-days',
    key: 'retentionDays',
    defaultText: '30',
    description: 'delivered rows older than this many days are deleted by cleanup',
    parse: int(0, 36_500),
  },
  {
    env: 'ENABLE_RETRY_DEAD',
    flag: 'enable-retry-dead',
    key: 'enableRetryDead',
    defaultText: 'false',
    description: 'opt in to the retry-dead job (replays rows that died of transient errors)',
    boolean: true,
    parse: bool,
  },
  {
    env: 'RETRY_CRON',
    flag: 'retry-cron',
    key: 'retryCron',
    defaultText: '0 * * * *',
    description: 'when the retry-dead job runs (with ENABLE_RETRY_DEAD=true)',
    parse: cronParser,
  },
  {
    env: 'WORKER_ID',
    flag: 'worker-id',
    key: 'workerId',
    defaultText: '<hostname>:<pid>',
    description: 'name of this relay in locked_by, logs and job runs',
    parse: schemaParser(z.string().trim().min(1).max(200), 'a non-empty text of at most 200 characters'),
  },
  {
    env: 'BATCH_SIZE',
    flag: 'batch-size',
    key: 'batchSize',
    defaultText: String(DEFAULT_BATCH_SIZE),
    description: 'rows claimed per statement',
    parse: int(1, 10_000),
  },
  {
    env: 'CONCURRENCY',
    flag: 'concurrency',
    key: 'concurrency',
    defaultText: String(DEFAULT_CONCURRENCY),
    description: 'publishes running at once',
    parse: int(1, 10_000),
  },
  {
    env: 'POLL_INTERVAL_MS',
    flag: 'poll-interval-ms',
    key: 'pollIntervalMs',
    defaultText: String(DEFAULT_POLL_INTERVAL_MS),
    description: 'idle poll interval of the relay',
    parse: int(1, 3_600_000),
  },
  {
    env: 'LEASE_MS',
    flag: 'lease-ms',
    key: 'leaseMs',
    defaultText: String(DEFAULT_LEASE_MS),
    description: 'claim lease; a crashed relay’s rows come back after it',
    parse: int(100, 86_400_000),
  },
  {
    env: 'MAX_RETRIES',
    flag: 'max-retries',
    key: 'maxRetries',
    defaultText: '25',
    description: 'attempts before messages written by this binary (publish, demo) are dead-lettered',
    parse: int(1, 1000),
  },
  {
    env: 'WORKER_MODE',
    flag: 'worker-mode',
    key: 'workerMode',
    defaultText: 'all',
    description: '`start` runs the relay, the jobs, or all',
    parse: oneOf(['relay', 'jobs', 'all']),
  },
  {
    env: 'WORKER_RUN_ONCE',
    flag: 'worker-run-once',
    key: 'workerRunOnce',
    defaultText: 'false',
    description: '`start` drains the outbox once and exits (like `run --drain`)',
    boolean: true,
    parse: bool,
  },
  {
    env: 'HTTP_PORT',
    flag: 'http-port',
    key: 'httpPort',
    defaultText: undefined,
    description: 'port of the health/metrics/admin endpoint (off when unset; 0 = any free port)',
    parse: int(0, 65_535),
  },
  {
    env: 'HTTP_HOST',
    flag: 'http-host',
    key: 'httpHost',
    defaultText: '0.0.0.0',
    description: 'address the HTTP endpoint listens on',
    parse: schemaParser(z.string().trim().min(1), 'a host name or address'),
  },
  {
    env: 'ADMIN_TOKEN',
    flag: 'admin-token',
    key: 'adminToken',
    defaultText: undefined,
    description: 'bearer token of the admin POST routes (routes off when unset)',
    secret: true,
    parse: schemaParser(z.string().trim().min(16), 'at least 16 characters', true),
  },
  {
    env: 'LOG_LEVEL',
    flag: 'log-level',
    key: 'logLevel',
    defaultText: 'info',
    description: 'pino level',
    parse: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  },
  {
    env: 'LOG_PRETTY',
    flag: 'log-pretty',
    key: 'logPretty',
    defaultText: 'when stdout is a TTY',
    description: 'human-readable logs instead of JSON lines',
    boolean: true,
    parse: bool,
  },
  {
    env: 'SHUTDOWN_TIMEOUT_MS',
    flag: 'shutdown-timeout-ms',
    key: 'shutdownTimeoutMs',
    defaultText: '10000',
    description: 'how long SIGTERM waits for in-flight publishes and jobs',
    parse: int(0, 3_600_000),
  },
];

/** Every setting of the binary, in help order. */
export const SETTINGS: readonly Setting[] = SETTINGS_LIST;

/** Flags as `parseArgs` gave them: strings for settings, booleans for boolean settings. */
export type FlagValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** A validated config and where each value came from. */
export interface LoadedConfig {
  config: CliConfig;
  sources: Record<string, SettingSource>;
}

function defaults(isTty: boolean): CliConfig {
  return {
    databaseUrl: undefined,
    schema: 'outbox',
    publisherTypes: ['console'],
    webhookUrl: undefined,
    webhookSecrets: [],
    webhookAllowPrivate: false,
    credentialsKey: undefined,
    enableJobs: true,
    relaySchedule: 'continuous',
    relayCron: '* * * * *',
    cleanupCron: '0 3 * * *',
    retentionDays: 30,
    enableRetryDead: false,
    retryCron: '0 * * * *',
    workerId: `${hostname()}:${process.pid}`,
    batchSize: DEFAULT_BATCH_SIZE,
    concurrency: DEFAULT_CONCURRENCY,
    pollIntervalMs: DEFAULT_POLL_INTERVAL_MS,
    leaseMs: DEFAULT_LEASE_MS,
    maxRetries: 25,
    workerMode: 'all',
    workerRunOnce: false,
    httpPort: undefined,
    httpHost: '0.0.0.0',
    adminToken: undefined,
    logLevel: 'info',
    logPretty: isTty,
    shutdownTimeoutMs: 10_000,
  };
}

/**
 * Reads every setting from env, lets flags override it, validates all of them and either
 * returns the config or throws one `ConfigError` listing every problem (each naming its
 * variable or flag). It never touches the database, so a bad config exits before any I/O.
 *
 * @example
 * const { config } = loadConfig(process.env, { 'batch-size': '500' }, { requireDatabase: true });
 */
export function loadConfig(
  env: Record<string, string | undefined>,
  flags: FlagValues = {},
  options: { requireDatabase?: boolean; isTty?: boolean } = {},
): LoadedConfig {
  const config = defaults(options.isTty ?? false) as unknown as Record<string, unknown>;
  const sources: Record<string, SettingSource> = {};
  const problems: string[] = [];
  for (const s of SETTINGS) {
    const flagValue = flags[s.flag];
    let raw: string | undefined;
    let label = s.env;
    sources[s.env] = 'default';
    if (flagValue !== undefined) {
      raw = String(Array.isArray(flagValue) ? flagValue.at(-1) : flagValue);
      label = `--${s.flag}`;
      sources[s.env] = 'flag';
    } else if (s.boolean && flags[`no-${s.flag}`] === true) {
      raw = 'false';
      label = `--no-${s.flag}`;
      sources[s.env] = 'flag';
    } else if (env[s.env] !== undefined && env[s.env] !== '') {
      raw = env[s.env];
      sources[s.env] = 'env';
    }
    if (raw === undefined) continue;
    const parsed = s.parse(raw);
    if (parsed.ok) config[s.key] = parsed.value;
    else problems.push(`${label} ${parsed.problem}`);
  }
  const c = config as unknown as CliConfig;
  // Rules across settings, checked only when the settings themselves were valid.
  if (
    options.requireDatabase &&
    !c.databaseUrl &&
    !problems.some((p) => p.includes('DATABASE_URL') || p.includes('--database-url'))
  ) {
    problems.push('DATABASE_URL is required (or --database-url): a postgres:// connection string');
  }
  if (c.publisherTypes.includes('webhook')) {
    if (!c.webhookUrl && sources.OUTBOX_WEBHOOK_URL === 'default') {
      problems.push('OUTBOX_WEBHOOK_URL is required when OUTBOX_PUBLISHER_TYPE includes webhook');
    }
    if (c.webhookSecrets.length === 0 && sources.OUTBOX_WEBHOOK_SECRET === 'default') {
      problems.push('OUTBOX_WEBHOOK_SECRET is required when OUTBOX_PUBLISHER_TYPE includes webhook');
    }
  }
  if (
    c.publisherTypes.includes('routeros') &&
    !c.credentialsKey &&
    sources.OUTBOX_CREDENTIALS_KEY === 'default'
  ) {
    problems.push('OUTBOX_CREDENTIALS_KEY is required when OUTBOX_PUBLISHER_TYPE includes routeros');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { config: c, sources };
}

/** Hides the password of a connection string, keeping the rest readable. */
export function redactUrl(url: string | undefined): string | undefined {
  if (!url) return url;
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '[redacted]';
  }
}

/**
 * The config as it may be printed or logged: secrets replaced by `[redacted]`, the
 * database password by `***`.
 *
 * @example
 * console.log(JSON.stringify(redactConfig(config), null, 2));
 */
export function redactConfig(config: CliConfig): Record<string, unknown> {
  return {
    ...config,
    databaseUrl: redactUrl(config.databaseUrl),
    webhookSecrets: config.webhookSecrets.map(() => '[redacted]'),
    credentialsKey: config.credentialsKey ? '[redacted]' : undefined,
    adminToken: config.adminToken ? '[redacted]' : undefined,
  };
}

/** parseArgs option specs for every setting flag (and `--no-<flag>` for booleans). */
export function settingFlagSpecs(): Record<string, { type: 'string' | 'boolean' }> {
  const specs: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const s of SETTINGS) {
    // Booleans take `--flag`, `--flag=false` is spelled `--no-flag`.
    specs[s.flag] = { type: s.boolean ? 'boolean' : 'string' };
    if (s.boolean) specs[`no-${s.flag}`] = { type: 'boolean' };
  }
  return specs;
}
