import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/foundation/errors.js';
import { DEFAULT_BATCH_SIZE, DEFAULT_STOP_TIMEOUT_MS } from '../../src/core/relay/relay.js';
import { DEFAULT_SCHEMA, quoteSchema } from '../../src/core/foundation/schema-name.js';
import { defaultWorkerId } from '../../src/core/foundation/worker-id.js';
import { parseCredentialsKey } from '../../src/publishers/routeros/credentials-cipher.js';
import { WebhookSecret } from '../../src/publishers/webhook/webhook-secret.js';
import { defaults, loadConfig, redactConfig, settingFlagSpecs } from '../../src/cli/config/load-config.js';
import { ComputedDefault, formatValue } from '../../src/cli/config/setting.js';
import { SETTING_LIST } from '../../src/cli/config/settings.js';

const DB = 'postgres://app:db-password@localhost:5432/app';
/** 32 random-looking bytes, base64: valid for WebhookSecret (24..64 bytes). */
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const KEY_HEX = 'ab'.repeat(32);

/** The problems `loadConfig` reports, or [] when it accepts. */
function problemsOf(...args: Parameters<typeof loadConfig>): readonly string[] {
  try {
    loadConfig(...args);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe('loadConfig defaults', () => {
  it('uses the library defaults when nothing is set, and says so in sources', () => {
    const { config, sources } = loadConfig({});
    expect(config.schema).toBe(DEFAULT_SCHEMA);
    expect(config.batchSize).toBe(DEFAULT_BATCH_SIZE);
    expect(config.maxRetries).toBeUndefined(); // no cap: rows keep their own max_attempts
    expect(config.shutdownTimeoutMs).toBe(DEFAULT_STOP_TIMEOUT_MS);
    expect(config.publisherTypes).toEqual(['console']);
    expect(config.webhookSecrets).toEqual([]);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.workerId).toBe(defaultWorkerId());
    expect(Object.values(sources).every((s) => s === 'default')).toBe(true);
    expect(Object.keys(sources)).toEqual(SETTING_LIST.map((s) => s.env));
  });

  it('derives defaults() from the declarations, with the computed ones from the context', () => {
    expect(loadConfig({}, {}, { isTty: true }).config).toEqual(defaults({ isTty: true }));
    expect(defaults({ isTty: true }).logPretty).toBe(true);
    expect(defaults({ isTty: false }).logPretty).toBe(false);
  });

  it('declares every default so that its own parser accepts it back', () => {
    for (const s of SETTING_LIST) {
      if (s.default === undefined || s.default instanceof ComputedDefault) continue;
      const raw = formatValue(s.default);
      if (raw === '-') continue; // an empty list: nothing to parse
      const parsed = s.parse.parse({ raw, label: s.env, shown: raw });
      expect(parsed, s.env).toEqual({ ok: true, value: s.default });
    }
  });

  it('gives every setting its own variable and flag', () => {
    const envs = SETTING_LIST.map((s) => s.env);
    const flags = SETTING_LIST.map((s) => s.flag);
    expect(new Set(envs).size).toBe(envs.length);
    expect(new Set(flags).size).toBe(flags.length);
    expect(Object.keys(settingFlagSpecs())).toEqual(expect.arrayContaining(flags));
    expect(settingFlagSpecs()['no-enable-jobs']).toEqual({ type: 'boolean' });
  });
});

describe('loadConfig precedence', () => {
  it('reads env, and a flag overrides its variable', () => {
    const { config, sources } = loadConfig({ BATCH_SIZE: '50', CONCURRENCY: '8' }, { 'batch-size': '70' });
    expect(config.batchSize).toBe(70);
    expect(sources.BATCH_SIZE).toBe('flag');
    expect(config.concurrency).toBe(8);
    expect(sources.CONCURRENCY).toBe('env');
  });

  it('takes the last of repeated flags and --no-<flag> for a false boolean', () => {
    const { config, sources } = loadConfig(
      { ENABLE_JOBS: 'true' },
      { 'batch-size': ['1', '2'], 'no-enable-jobs': true },
    );
    expect(config.batchSize).toBe(2);
    expect(config.enableJobs).toBe(false);
    expect(sources.ENABLE_JOBS).toBe('flag');
  });

  it('treats an empty variable as unset', () => {
    const { config, sources } = loadConfig({ OUTBOX_SCHEMA: '' });
    expect(config.schema).toBe(DEFAULT_SCHEMA);
    expect(sources.OUTBOX_SCHEMA).toBe('default');
  });

  it('parses lists and booleans the documented ways', () => {
    const { config } = loadConfig({
      OUTBOX_PUBLISHER_TYPE: ' Webhook, console ,webhook',
      OUTBOX_WEBHOOK_URL: 'https://example.com/hook',
      OUTBOX_WEBHOOK_SECRET: `${SECRET}, ${SECRET}`,
      WORKER_RUN_ONCE: '1',
      LOG_PRETTY: 'FALSE',
    });
    expect(config.publisherTypes).toEqual(['webhook', 'console']);
    expect(config.webhookSecrets).toEqual([SECRET, SECRET]);
    expect(config.workerRunOnce).toBe(true);
    expect(config.logPretty).toBe(false);
  });
});

describe('loadConfig problems', () => {
  it.each(['yes', 'on', 'no', 'off', 'enabled'])(
    'refuses the boolean %s instead of guessing what it means',
    (value) => {
      expect(problemsOf({ OUTBOX_WEBHOOK_ALLOW_PRIVATE: value })).toEqual([
        `OUTBOX_WEBHOOK_ALLOW_PRIVATE must be true, false, 1 or 0, got "${value}"`,
      ]);
    },
  );

  it('reports every problem at once, each naming its variable or flag', () => {
    const problems = problemsOf(
      {
        BATCH_SIZE: '50',
        CONCURRENCY: '-1',
        CLEANUP_CRON: 'every day',
        WORKER_MODE: 'both',
        ENABLE_JOBS: 'maybe',
        OUTBOX_PUBLISHER_TYPE: 'kafka',
        OUTBOX_SCHEMA: 'Bad-Name',
      },
      { 'batch-size': '0' },
      { requireDatabase: true },
    );
    // In declaration order, then the requirements.
    expect(problems).toEqual([
      'OUTBOX_SCHEMA must be a lower-case SQL identifier (letters, digits, _; at most 63 characters), got "Bad-Name"',
      'OUTBOX_PUBLISHER_TYPE must be a comma list of console, webhook, routeros, nats, got "kafka"',
      'ENABLE_JOBS must be true, false, 1 or 0, got "maybe"',
      expect.stringMatching(/^CLEANUP_CRON "every day" is not a valid cron expression \(.+\)$/),
      '--batch-size must be an integer 1..10000, got "0"',
      'CONCURRENCY must be an integer 1..10000, got "-1"',
      'WORKER_MODE must be one of relay, jobs, all (or 0, 1, true, false), got "both"',
      "DATABASE_URL is required (or --database-url, or libpq's PGHOST, PGUSER...): a postgres:// connection string",
    ]);
  });

  it('asks for the settings a chosen publisher needs, but not twice for one given badly', () => {
    expect(problemsOf({ OUTBOX_PUBLISHER_TYPE: 'webhook,routeros' })).toEqual([
      'OUTBOX_WEBHOOK_URL is required when OUTBOX_PUBLISHER_TYPE includes webhook',
      'OUTBOX_WEBHOOK_SECRET is required when OUTBOX_PUBLISHER_TYPE includes webhook',
      'OUTBOX_CREDENTIALS_KEY is required when OUTBOX_PUBLISHER_TYPE includes routeros',
    ]);
    expect(
      problemsOf({
        OUTBOX_PUBLISHER_TYPE: 'webhook',
        OUTBOX_WEBHOOK_URL: 'ftp://x',
        OUTBOX_WEBHOOK_SECRET: SECRET,
      }),
    ).toEqual(['OUTBOX_WEBHOOK_URL must be an http(s) URL, got "ftp://x"']);
    expect(problemsOf({ DATABASE_URL: 'mysql://x' }, {}, { requireDatabase: true })).toEqual([
      'DATABASE_URL must be a postgres:// or postgresql:// URL',
    ]);
  });
});

describe('loadConfig applies the library rules', () => {
  it('refuses a whsec_ secret the webhook publisher would refuse at start (16 characters = 12 bytes)', () => {
    const short = `whsec_${'A'.repeat(16)}`;
    expect(() => WebhookSecret.parse(short)).toThrow();
    const problems = problemsOf({ OUTBOX_WEBHOOK_SECRET: short });
    expect(problems).toEqual(['OUTBOX_WEBHOOK_SECRET must decode to 24..64 bytes, got 12 bytes']);
    expect(problems.join('\n')).not.toContain(short);
  });

  it('names which secret of a rotation list is wrong, without echoing any', () => {
    const problems = problemsOf({ OUTBOX_WEBHOOK_SECRET: `${SECRET},not-a-secret` });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^OUTBOX_WEBHOOK_SECRET\[1\] is a plain secret of 12 bytes; it needs at least 24/,
    );
    expect(problems[0]).not.toContain('not-a-secret');
  });

  it.each([
    ['outbox', true],
    ['tenant_42', true],
    ['a'.repeat(63), true],
    ['a'.repeat(64), false],
    ['Outbox', false],
    ['9lives', false],
    ['x; drop table y', false],
  ])('accepts schema %j exactly when quoteSchema does', (schema, valid) => {
    expect(libraryAccepts(() => quoteSchema(schema))).toBe(valid);
    expect(problemsOf({ OUTBOX_SCHEMA: schema }).length === 0).toBe(valid);
  });

  it.each([
    [KEY_HEX, true],
    [Buffer.alloc(32, 7).toString('base64'), true],
    [Buffer.alloc(32, 7).toString('base64url'), true],
    [Buffer.alloc(31, 7).toString('base64'), false],
    ['ab'.repeat(31), false],
    ['not a key', false],
  ])('accepts credentials key %j exactly when parseCredentialsKey does', (key, valid) => {
    expect(libraryAccepts(() => parseCredentialsKey(key))).toBe(valid);
    const problems = problemsOf({ OUTBOX_CREDENTIALS_KEY: key });
    expect(problems.length === 0).toBe(valid);
    for (const p of problems) expect(p).not.toContain(key);
  });
});

describe('redaction', () => {
  it('hides secrets in the printable config and the database password', () => {
    const { config } = loadConfig({
      DATABASE_URL: DB,
      OUTBOX_WEBHOOK_SECRET: SECRET,
      OUTBOX_CREDENTIALS_KEY: KEY_HEX,
      ADMIN_TOKEN: 'a-very-secret-admin-token',
    });
    const redacted = redactConfig(config);
    const text = JSON.stringify(redacted);
    for (const secret of ['db-password', SECRET, KEY_HEX, 'a-very-secret-admin-token']) {
      expect(text).not.toContain(secret);
    }
    expect(redacted.databaseUrl).toBe('postgres://app:***@localhost:5432/app');
    expect(redacted.webhookSecrets).toEqual(['[redacted]']);
    expect(redacted.adminToken).toBe('[redacted]');
    expect(redacted.batchSize).toBe(config.batchSize);
  });

  it('never echoes a secret setting in its problem', () => {
    const problems = problemsOf({ ADMIN_TOKEN: 'short-secret' });
    expect(problems).toEqual(['ADMIN_TOKEN must be at least 16 characters, got [redacted]']);
  });
});

function libraryAccepts(validate: () => unknown): boolean {
  try {
    validate();
    return true;
  } catch {
    return false;
  }
}
