import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/core/migrations/index.js';
import { migrate } from '../../src/core/migrations/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { FUTURE_MIGRATION } from '../support/future-migration.js';
import { waitFor } from '../support/recording-publisher.js';
import { runCli, spawnCli } from './cli-process.js';

describe('outbox-relay start and the schema fence', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(() => t.close());

  const env = () => ({
    DATABASE_URL: t.url,
    OUTBOX_SCHEMA: t.schema,
    LOG_LEVEL: 'info',
    ENABLE_JOBS: 'false',
  });

  it('exits 1 with one error line once a later release migrates the schema under it, and refuses to start again', async () => {
    expect((await runCli(['publish', '--count', '50', '--type', 'e2e.fence'], env())).code).toBe(0);
    const p = spawnCli(['start'], env());
    await p.waitForLog((l) => l.msg === 'outbox-relay started', 'start');
    await waitFor(async () => {
      const { rows } = await t.pool.query(`select count(*)::int as n from "${t.schema}".messages`);
      return rows[0].n === 0;
    }, 'the first messages to be delivered');
    await migrate(t.pool, { schema: t.schema, migrations: [...MIGRATIONS, FUTURE_MIGRATION] });
    expect(await p.exited).toBe(1);
    const errors = p.logs().filter((l) => l.level >= 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe('SCHEMA_TOO_NEW');
    expect(errors[0]!.msg).toMatch(/newer than this relay knows/);

    const again = await runCli(['start'], env());
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(/schema is newer than this build/);
  });
});
