import { describe, expect, it } from 'vitest';
import { freshDatabases, runCli } from './cli-process.js';

describe.concurrent('the seeds’ names in the binary', () => {
  const fresh = freshDatabases();

  it('runs seed 004’s `jobs run outbox` as the relay job, and lists the alias', async () => {
    const { t, env } = await fresh();
    expect((await runCli(['publish', '--count', '2', '--type', 'e2e.seed'], env)).code).toBe(0);
    const run = await runCli(['jobs', 'run', 'outbox'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      job: 'outbox',
      status: 'succeeded',
      result: { delivered: 2 },
    });
    const runs = await t.pool.query(`select job_name from "${t.schema}".job_runs`);
    expect(runs.rows).toEqual([{ job_name: 'relay' }]);
    const list = await runCli(['jobs', 'list'], env);
    expect(list.stdout).toContain('relay (outbox)');
    expect(list.stdout).toContain('retry-dead (retry)');
  });
});

describe.concurrent('seed settings in the binary', () => {
  it('exits 2 on a plain webhook secret shorter than 24 bytes, saying why', async () => {
    const r = await runCli(['config'], { OUTBOX_WEBHOOK_SECRET: 'tu_secret' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('OUTBOX_WEBHOOK_SECRET is a plain secret of 9 bytes; it needs at least 24');
    expect(r.stderr).not.toContain('tu_secret');
  });

  it('`config` says which name gave a value, and builds DATABASE_URL from PG* without printing the password', async () => {
    const r = await runCli(['config'], {
      PORT: '4000',
      PGHOST: 'db.internal',
      PGUSER: 'worker',
      PGPASSWORD: 'pg-secret-password',
      PGDATABASE: 'app',
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/HTTP_PORT\s+4000\s+env \(as PORT\)/);
    expect(r.stdout).toMatch(
      /DATABASE_URL\s+postgresql:\/\/worker:\*\*\*@db\.internal\/app\s+env \(as PG\* variables\)/,
    );
    expect(r.stdout).not.toContain('pg-secret-password');
  });
});
