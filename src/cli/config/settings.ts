import { DEFAULT_MAX_ATTEMPTS } from '../../core/producer/outbox.js';
import { defaultWorkerId } from '../../core/foundation/worker-id.js';
import {
  DEFAULT_BATCH_SIZE,
  DEFAULT_CONCURRENCY,
  DEFAULT_LEASE_MS,
  DEFAULT_POLL_INTERVAL_MS,
  DEFAULT_STOP_TIMEOUT_MS,
  RELAY_OPTION_BOUNDS,
} from '../../core/relay/relay.js';
import { DEFAULT_RETRY_POLICY, RETRY_POLICY_BOUNDS } from '../../core/relay/retry-policy.js';
import { ATTEMPT_LOG_MODES, DEFAULT_ATTEMPT_LOG } from '../../core/relay/attempt-record.js';
import { BREAKER_SETTINGS } from './breaker-settings.js';
import { DEFAULT_SCHEMA } from '../../core/foundation/schema-name.js';
import { LIBPQ_SETTINGS } from './libpq-settings.js';
import { NATS_SETTINGS } from './nats-settings.js';
import { WEBHOOK_SETTINGS } from './webhook-settings.js';
import {
  commaListOf,
  credentialsKey,
  cron,
  decimal,
  flag,
  integer,
  oneOf,
  postgresUrl,
  schemaName,
  text,
} from './setting-parsers.js';
import { workerMode } from './worker-roles.js';
import { DESTINATION_LIMIT_SETTINGS } from './destination-limits-setting.js';
import { ComputedDefault, hidden, redactUrl, type Setting, setting } from './setting.js';
import { DEFAULT_ONE_SHOT_DB_WAIT_MS } from '../runtime/wait-for-database.js';

/** Publishers the binary can build from env. */
export const PUBLISHER_TYPES = ['console', 'webhook', 'routeros', 'nats'] as const;
/** One of `PUBLISHER_TYPES`. */
export type PublisherType = (typeof PUBLISHER_TYPES)[number];

/**
 * Every setting of the binary, in help order, keyed by its name in `CliConfig`.
 * A new setting is one entry here: its type, default, flag, `--help` line, `config` row and
 * row of the configuration reference all follow (run `npm run docs:settings` to regenerate the table in docs/binary.md).
 */
export const SETTINGS = {
  databaseUrl: setting({
    env: 'DATABASE_URL',
    flag: 'database-url',
    parse: postgresUrl,
    default: undefined,
    redact: redactUrl,
    description: 'PostgreSQL connection string (required except for demo; or the PG* variables below)',
  }),
  ...LIBPQ_SETTINGS,
  schema: setting({
    env: 'OUTBOX_SCHEMA',
    flag: 'schema',
    parse: schemaName,
    default: DEFAULT_SCHEMA,
    description: 'schema of the outbox tables',
  }),
  publisherTypes: setting({
    env: 'OUTBOX_PUBLISHER_TYPE',
    flag: 'publisher-type',
    parse: commaListOf(PUBLISHER_TYPES),
    default: ['console'],
    description: `publishers to run: ${PUBLISHER_TYPES.join(', ')} (comma list; the first also serves destination "default")`,
  }),
  ...WEBHOOK_SETTINGS,
  credentialsKey: setting({
    env: 'OUTBOX_CREDENTIALS_KEY',
    aliases: ['CREDENTIALS_ENCRYPTION_KEY'],
    flag: 'credentials-key',
    parse: credentialsKey,
    default: undefined,
    redact: hidden,
    description: 'key for device passwords: 32 bytes as base64 or hex (RouterOS)',
  }),
  ...NATS_SETTINGS,
  enableJobs: setting({
    env: 'ENABLE_JOBS',
    flag: 'enable-jobs',
    parse: flag,
    default: true,
    description: 'run the cron jobs in `start`',
  }),
  relaySchedule: setting({
    env: 'RELAY_SCHEDULE',
    flag: 'relay-schedule',
    parse: oneOf(['continuous', 'cron']),
    default: 'continuous',
    description:
      'continuous: the relay polls all the time; cron: one drain per OUTBOX_CRON tick (the `relay` job)',
  }),
  relayCron: setting({
    env: 'OUTBOX_CRON',
    flag: 'outbox-cron',
    parse: cron,
    default: '* * * * *',
    description: 'relay round when not running continuously (RELAY_SCHEDULE=cron)',
  }),
  cleanupCron: setting({
    env: 'CLEANUP_CRON',
    flag: 'cleanup-cron',
    parse: cron,
    default: '0 3 * * *',
    description: 'when the cleanup job deletes old delivered rows',
  }),
  retentionDays: setting({
    env: 'RETENTION_DAYS',
    flag: 'retention-days',
    parse: integer({ min: 0, max: 36_500 }),
    default: 30,
    description: 'delivered rows older than this many days are deleted by cleanup',
  }),
  enableRetryDead: setting({
    env: 'ENABLE_RETRY_DEAD',
    flag: 'enable-retry-dead',
    parse: flag,
    default: false,
    description: 'opt in to the retry-dead job (replays rows that died of transient errors)',
  }),
  retryCron: setting({
    env: 'RETRY_CRON',
    flag: 'retry-cron',
    parse: cron,
    default: '0 * * * *',
    description: 'when the retry-dead job runs (with ENABLE_RETRY_DEAD=true)',
  }),
  jobEventsDestination: setting({
    env: 'JOB_EVENTS_DESTINATION',
    flag: 'job-events-destination',
    parse: text({ min: 1, max: 200, rule: 'a destination such as webhook or nats:audit.jobs' }),
    default: undefined,
    description:
      'each successful job run writes a job.completed event (job, counts, duration) here, in the transaction that records the run',
  }),
  workerId: setting({
    env: 'WORKER_ID',
    flag: 'worker-id',
    parse: text({ min: 1, max: 200, rule: 'a non-empty text of at most 200 characters' }),
    default: new ComputedDefault('<hostname>:<pid>:<random>', defaultWorkerId),
    description: 'name of this relay in locked_by, logs and job runs',
  }),
  batchSize: setting({
    env: 'BATCH_SIZE',
    flag: 'batch-size',
    parse: integer(RELAY_OPTION_BOUNDS.batchSize),
    default: DEFAULT_BATCH_SIZE,
    description: 'rows claimed per statement (see `batchSize`)',
  }),
  concurrency: setting({
    env: 'CONCURRENCY',
    flag: 'concurrency',
    parse: integer(RELAY_OPTION_BOUNDS.concurrency),
    default: undefined,
    description: `publishes running at once; unset: ${DEFAULT_CONCURRENCY}, or more when a publisher asks for it (nats: 128, its PubAcks are cheap to keep in flight)`,
  }),
  pollIntervalMs: setting({
    env: 'POLL_INTERVAL_MS',
    flag: 'poll-interval-ms',
    parse: integer(RELAY_OPTION_BOUNDS.pollIntervalMs),
    default: DEFAULT_POLL_INTERVAL_MS,
    description: 'idle poll interval of the relay',
  }),
  leaseMs: setting({
    env: 'LEASE_MS',
    flag: 'lease-ms',
    parse: integer(RELAY_OPTION_BOUNDS.leaseMs),
    default: DEFAULT_LEASE_MS,
    description: 'claim lease; a crashed relay’s rows come back after it',
  }),
  maxRetries: setting({
    env: 'MAX_RETRIES',
    flag: 'max-retries',
    parse: integer(RELAY_OPTION_BOUNDS.maxAttempts),
    // Unset means no cap: a row keeps the max_attempts its producer chose. A default here would
    // silently cut every producer's own budget down to it.
    default: undefined,
    description: `when set, caps the attempts of every row the relay delivers; also the max_attempts of messages the binary writes (publish, demo), which otherwise get ${DEFAULT_MAX_ATTEMPTS}`,
  }),
  attemptLog: setting({
    env: 'ATTEMPT_LOG',
    flag: 'attempt-log',
    parse: oneOf(ATTEMPT_LOG_MODES),
    default: DEFAULT_ATTEMPT_LOG,
    description:
      'which delivery attempts the relay records in the attempt log (`attempts`, `show`): failures, all, off',
  }),
  retryBaseMs: setting({
    env: 'RETRY_BASE_MS',
    flag: 'retry-base-ms',
    parse: integer(RETRY_POLICY_BOUNDS.baseDelayMs),
    default: DEFAULT_RETRY_POLICY.baseDelayMs,
    description: `delay after the first failed attempt; doubles each attempt (x${DEFAULT_RETRY_POLICY.factor})`,
  }),
  retryMaxMs: setting({
    env: 'RETRY_MAX_MS',
    flag: 'retry-max-ms',
    parse: integer(RETRY_POLICY_BOUNDS.maxDelayMs),
    default: DEFAULT_RETRY_POLICY.maxDelayMs,
    description: 'longest delay between attempts (at least RETRY_BASE_MS)',
  }),
  retryJitter: setting({
    env: 'RETRY_JITTER',
    flag: 'retry-jitter',
    parse: decimal(RETRY_POLICY_BOUNDS.jitter),
    default: DEFAULT_RETRY_POLICY.jitter,
    description: 'spread of each delay as a fraction (0.2 = +-20%)',
  }),
  ...BREAKER_SETTINGS,
  workerMode: setting({
    env: 'WORKER_MODE',
    flag: 'worker-mode',
    parse: workerMode,
    default: undefined,
    description:
      '`start` runs relay, jobs or all (unset: all); seed 003: 0/false = HTTP only, 1/true = relay and jobs (see JOB_RUNNER_ENABLED)',
  }),
  jobRunnerEnabled: setting({
    env: 'JOB_RUNNER_ENABLED',
    flag: 'job-runner-enabled',
    parse: flag,
    default: undefined,
    description:
      'seed 003: false runs nothing (HTTP only) in any mode; true with WORKER_MODE 0 or unset runs relay and jobs',
  }),
  workerRunOnce: setting({
    env: 'WORKER_RUN_ONCE',
    flag: 'worker-run-once',
    parse: flag,
    default: false,
    description: '`start` drains the outbox once and exits (like `run --drain`)',
  }),
  httpPort: setting({
    env: 'HTTP_PORT',
    aliases: ['PORT'],
    flag: 'http-port',
    parse: integer({ min: 0, max: 65_535 }),
    default: undefined,
    description:
      'port of the health/metrics/admin endpoint and the status page (off when unset; 0 = any free port)',
  }),
  httpHost: setting({
    env: 'HTTP_HOST',
    flag: 'http-host',
    parse: text({ min: 1, rule: 'a host name or address' }),
    default: '0.0.0.0',
    description: 'address the HTTP endpoint listens on',
  }),
  adminToken: setting({
    env: 'ADMIN_TOKEN',
    flag: 'admin-token',
    parse: text({ min: 16, rule: 'at least 16 characters' }),
    default: undefined,
    redact: hidden,
    description:
      'bearer token of every /api/* route, the admin POST routes and the status page (when unset: admin routes off, reads open)',
  }),
  metricsToken: setting({
    env: 'METRICS_TOKEN',
    flag: 'metrics-token',
    parse: text({ min: 16, rule: 'at least 16 characters' }),
    default: undefined,
    redact: hidden,
    description: 'bearer token of GET /metrics (open when unset; ADMIN_TOKEN never covers it)',
  }),
  ...DESTINATION_LIMIT_SETTINGS,
  logLevel: setting({
    env: 'LOG_LEVEL',
    flag: 'log-level',
    parse: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    default: 'info',
    description: 'pino level',
  }),
  logPretty: setting({
    env: 'LOG_PRETTY',
    flag: 'log-pretty',
    parse: flag,
    default: new ComputedDefault('when stdout is a TTY', (ctx) => ctx.isTty),
    description: 'human-readable logs instead of JSON lines',
  }),
  shutdownTimeoutMs: setting({
    env: 'SHUTDOWN_TIMEOUT_MS',
    flag: 'shutdown-timeout-ms',
    parse: integer(RELAY_OPTION_BOUNDS.stopTimeoutMs),
    default: DEFAULT_STOP_TIMEOUT_MS,
    description: 'how long SIGTERM waits for in-flight publishes and jobs',
  }),
  dbWaitTimeoutMs: setting({
    env: 'DB_WAIT_TIMEOUT_MS',
    flag: 'db-wait-timeout-ms',
    parse: integer({ min: 0, max: 2_147_483_647 }),
    default: undefined,
    description: `how long a command waits for an unreachable database before it exits 1 (unset: \`start\` waits as long as it takes, other commands ${DEFAULT_ONE_SHOT_DB_WAIT_MS} ms; 0 = one attempt)`,
  }),
};

/** The name of a setting in `CliConfig`. */
export type SettingKey = keyof typeof SETTINGS;

/** A setting's parsed type, plus `undefined` when it is unset by default. */
type ValueOf<S> = S extends Setting<infer T, infer D> ? T | Extract<D, undefined> : never;

/** The binary's whole configuration, validated: one property per entry of `SETTINGS`. */
export type CliConfig = { [K in SettingKey]: ValueOf<(typeof SETTINGS)[K]> };

/** A setting with its key, as the loader and the help walk them. */
export type KeyedSetting = Setting<unknown> & { readonly key: SettingKey };

/** `SETTINGS` as a list, in help order. */
export const SETTING_LIST: readonly KeyedSetting[] = (Object.keys(SETTINGS) as SettingKey[]).map(
  (key): KeyedSetting => ({ ...SETTINGS[key], key }),
);

/** A setting needed because of other settings (or the command), checked after every setting parsed. */
export interface Requirement {
  readonly key: SettingKey;
  /** Whether the setting must be given. */
  when(config: CliConfig, options: { requireDatabase?: boolean }): boolean;
  /** Ends `<ENV> is required ...`. */
  readonly because: string;
}

/** Settings required by other settings, in the order their problems are listed. */
export const REQUIREMENTS: readonly Requirement[] = [
  {
    key: 'databaseUrl',
    when: (_config, options) => options.requireDatabase === true,
    because: `(or --${SETTINGS.databaseUrl.flag}, or libpq's PGHOST, PGUSER...): a postgres:// connection string`,
  },
  ...(['webhookUrl', 'webhookSecrets'] as const).map((key) => ({
    key,
    when: (config: CliConfig) => config.publisherTypes.includes('webhook'),
    because: `when ${SETTINGS.publisherTypes.env} includes webhook`,
  })),
  {
    key: 'credentialsKey',
    when: (config) => config.publisherTypes.includes('routeros'),
    because: `when ${SETTINGS.publisherTypes.env} includes routeros`,
  },
  {
    key: 'natsServers',
    when: (config) => config.publisherTypes.includes('nats'),
    because: `when ${SETTINGS.publisherTypes.env} includes nats`,
  },
  { key: 'natsPassword', when: (config) => config.natsUser !== undefined, because: 'with NATS_USER' },
  { key: 'natsUser', when: (config) => config.natsPassword !== undefined, because: 'with NATS_PASSWORD' },
  { key: 'natsTlsKey', when: (config) => config.natsTlsCert !== undefined, because: 'with NATS_TLS_CERT' },
];
