import { describe, expect, it } from 'vitest';
import { runCli } from './cli-process.js';

// Nothing listens here: a config error must exit before any connection is tried.
const UNREACHABLE = 'postgres://nobody:secret-pw@127.0.0.1:1/none';

describe.concurrent('config errors', () => {
  it.each([
    ['BATCH_SIZE', 'abc', 'BATCH_SIZE must be an integer 1..10000, got "abc"'],
    ['OUTBOX_CRON', '*/61 * * * *', 'OUTBOX_CRON "*/61 * * * *" is not a valid cron expression'],
    ['WORKER_MODE', 'both', 'WORKER_MODE must be one of relay, jobs, all (or 0, 1, true, false), got "both"'],
    ['HTTP_PORT', '70000', 'HTTP_PORT must be an integer 0..65535'],
    ['OUTBOX_SCHEMA', 'Bad-Name', 'OUTBOX_SCHEMA must be a lower-case SQL identifier'],
    ['ENABLE_JOBS', 'maybe', 'ENABLE_JOBS must be true, false, 1 or 0, got "maybe"'],
    [
      'OUTBOX_WEBHOOK_ALLOW_PRIVATE',
      'yes',
      'OUTBOX_WEBHOOK_ALLOW_PRIVATE must be true, false, 1 or 0, got "yes"',
    ],
    [
      'OUTBOX_PUBLISHER_TYPE',
      'kafka',
      'OUTBOX_PUBLISHER_TYPE must be a comma list of console, webhook, routeros, nats',
    ],
    // Issue 22 item 7: limits are checked at start, each entry by name.
    [
      'DESTINATION_LIMITS',
      '{webhook:*: 100}',
      'DESTINATION_LIMITS must be JSON like {"webhook:*":{"rate":100,"burst":20,"maxInFlight":4}}',
    ],
    [
      'DESTINATION_LIMITS',
      '{"webhook:*":{"rate":100},"tenant:acme":{"rate":10,"burst":0}}',
      'DESTINATION_LIMITS ["tenant:acme"].burst must be an integer 1..1000000, got 0',
    ],
    [
      'DESTINATION_LIMITS',
      '{"webhook:a*":{"rate":1}}',
      'DESTINATION_LIMITS ["webhook:a*"].pattern may end in ":*" only right after the route',
    ],
    ['BREAKER_FAILURE_RATIO', '2', 'BREAKER_FAILURE_RATIO must be'],
    ['BREAKER_MIN_ATTEMPTS', '0', 'BREAKER_MIN_ATTEMPTS must be an integer 1..1000000, got "0"'],
    ['BREAKER_ENABLED', 'sometimes', 'BREAKER_ENABLED must be true, false, 1 or 0, got "sometimes"'],
  ])('exits 2 naming %s when it is invalid', async (name, value, message) => {
    const r = await runCli(['start'], { DATABASE_URL: UNREACHABLE, [name]: value });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it('exits 2 when BREAKER_PROBE_MAX_MS is below BREAKER_PROBE_MS', async () => {
    const r = await runCli(['start'], {
      DATABASE_URL: UNREACHABLE,
      BREAKER_PROBE_MS: '10000',
      BREAKER_PROBE_MAX_MS: '5000',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('BREAKER_PROBE_MAX_MS must be >= BREAKER_PROBE_MS, got 5000 < 10000');
  });

  it('lists every problem at once, and a flag overrides its variable', async () => {
    const r = await runCli(['start', '--batch-size', '0'], {
      DATABASE_URL: UNREACHABLE,
      BATCH_SIZE: '50',
      CONCURRENCY: '-1',
      CLEANUP_CRON: 'every day',
      LEASE_MS: '10',
      LOG_LEVEL: 'loud',
      ADMIN_TOKEN: 'short',
    });
    expect(r.code).toBe(2);
    for (const name of [
      '--batch-size',
      'CONCURRENCY',
      'CLEANUP_CRON',
      'LEASE_MS',
      'LOG_LEVEL',
      'ADMIN_TOKEN',
    ]) {
      expect(r.stderr).toContain(name);
    }
    expect(r.stderr).not.toContain('short'); // secrets are not echoed
  });

  it('exits 2 when DATABASE_URL is missing, and 2 for an unknown command or flag', async () => {
    expect((await runCli(['stats'], {})).stderr).toContain('DATABASE_URL is required');
    expect((await runCli(['stats'], {})).code).toBe(2);
    expect((await runCli(['frobnicate'], {})).code).toBe(2);
    expect((await runCli(['stats', '--nope'], { DATABASE_URL: UNREACHABLE })).code).toBe(2);
  });

  it('requires the webhook settings when the webhook publisher is chosen', async () => {
    const r = await runCli(['start'], {
      DATABASE_URL: UNREACHABLE,
      OUTBOX_PUBLISHER_TYPE: 'console,webhook',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('OUTBOX_WEBHOOK_URL is required');
    expect(r.stderr).toContain('OUTBOX_WEBHOOK_SECRET is required');
  });

  it('prints the effective config with secrets redacted', async () => {
    const r = await runCli(['config', '--json'], {
      DATABASE_URL: UNREACHABLE,
      ADMIN_TOKEN: 'a-very-secret-admin-token',
      BATCH_SIZE: '7',
    });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('secret-pw');
    expect(r.stdout).not.toContain('a-very-secret-admin-token');
    const { config, sources } = JSON.parse(r.stdout);
    expect(config.batchSize).toBe(7);
    expect(config.adminToken).toBe('[redacted]');
    expect(sources.BATCH_SIZE).toBe('env');
  });

  it('has --help on every command', async () => {
    const main = await runCli(['--help'], {});
    expect(main.code).toBe(0);
    const names = [...main.stdout.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]!);
    expect(names).toEqual(
      expect.arrayContaining([
        'start',
        'run',
        'migrate',
        'stats',
        'cleanup',
        'dead',
        'jobs',
        'publish',
        'devices',
        'config',
        'demo',
      ]),
    );
    // Four processes at a time: one per command in turn took over 60 s on a loaded 2-core box.
    const pending = [...names];
    const worker = async () => {
      for (let name = pending.shift(); name !== undefined; name = pending.shift()) {
        const r = await runCli([name, '--help'], {});
        expect(r.code, name).toBe(0);
        expect(r.stdout, name).toContain(`outbox-relay ${name}`);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  }, 180_000);
});
