// What a team meets in its first hour with the binary: values it must refuse or warn about,
// and output that must not mislead (issue #27).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { runCli, spawnCli } from './cli-process.js';

const SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;

describe('outbox-relay in the first hour', () => {
  let t: TestDatabase;
  let env: Record<string, string>;
  beforeAll(async () => {
    t = await createTestDatabase();
    env = { DATABASE_URL: t.url, OUTBOX_SCHEMA: t.schema, LOG_LEVEL: 'info' };
  });
  afterAll(() => t.close());

  it('warns, naming LEASE_MS, when the lease cannot cover the webhook timeout, and logs no unset secret as redacted', async () => {
    const p = spawnCli(['start'], {
      ...env,
      OUTBOX_PUBLISHER_TYPE: 'webhook',
      // A literal public address: nothing is sent, and no DNS is asked.
      OUTBOX_WEBHOOK_URL: 'https://93.184.216.34/hooks',
      OUTBOX_WEBHOOK_SECRET: SECRET,
      LEASE_MS: '500',
      ENABLE_JOBS: 'false',
    });
    try {
      const started = await p.waitForLog(
        (l) => l.msg === 'outbox-relay started',
        'the relay to start',
        60_000,
      );
      const warning = p.logs().find((l) => l.level === 40 && /publish deadline/.test(l.msg));
      expect(warning?.msg).toContain('shorter than publisher "webhook"\'s own timeout of 15000 ms');
      expect(warning?.msg).toMatch(/: raise LEASE_MS$/);
      // ADMIN_TOKEN is not set: the line must not say "[redacted]" as if it were.
      expect(started.config).not.toHaveProperty('adminToken');
      expect(started.config.webhookSecrets).toEqual(['[redacted]']);
    } finally {
      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
    }
  }, 90_000);

  it('refuses a private OUTBOX_WEBHOOK_URL at start with exit 2, naming the variable that allows it', async () => {
    const r = await runCli(['start'], {
      ...env,
      OUTBOX_PUBLISHER_TYPE: 'webhook',
      OUTBOX_WEBHOOK_URL: 'http://localhost:3000/hooks',
      OUTBOX_WEBHOOK_SECRET: SECRET,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'OUTBOX_WEBHOOK_URL http://localhost:3000/hooks: SSRF guard refused 127.0.0.1',
    );
    expect(r.stderr).toContain('set OUTBOX_WEBHOOK_ALLOW_PRIVATE=true');
    expect(r.stderr).not.toContain('allowPrivateNetworks');
  });

  it('says "none" for the oldest pending age when nothing is pending', async () => {
    const r = await runCli(['stats'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('oldest pending: none (nothing pending)');
    expect(r.stdout).not.toContain('0.0 s');
  });

  it('shows a dead letter with `dead show --id`, as the README documents the filter', async () => {
    await t.pool.query(
      `insert into "${t.schema}".messages (message_id, type, payload, destination, status, dead_at, dead_reason, last_error)
       values (gen_random_uuid(), 'first.hour', '{}', 'nowhere', 'dead', now(), 'permanent', 'gave up')`,
    );
    const [{ id }] = (await t.pool.query(`select id::text from "${t.schema}".messages`)).rows;
    const r = await runCli(['dead', 'show', '--id', id], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ id, status: 'dead', lastError: 'gave up' });
    expect((await runCli(['dead', 'show', id, '--id', id], env)).code).toBe(2); // one id, not two
  });
});
