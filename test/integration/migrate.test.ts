import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { expect, inject, it } from 'vitest';
import { LATEST_MIGRATION_VERSION, migrate, schemaVersion } from '../../src/core/migrations/migrate.js';
import { OutboxValidationError } from '../../src/core/foundation/errors.js';

it('applies migrations once even when three processes migrate at the same time', async () => {
  const schema = `m_${randomBytes(5).toString('hex')}`;
  const pools = [0, 1, 2].map(() => new pg.Pool({ connectionString: inject('databaseUrl'), max: 1 }));
  try {
    expect(await schemaVersion(pools[0]!, { schema })).toBe(0);
    const results = await Promise.all(pools.map((p) => migrate(p, { schema })));
    const appliedBy = results.filter((r) => r.applied.length > 0);
    expect(appliedBy).toHaveLength(1);
    expect(results.every((r) => r.version === LATEST_MIGRATION_VERSION)).toBe(true);
    const again = await migrate(pools[0]!, { schema });
    expect(again).toMatchObject({ applied: [], version: LATEST_MIGRATION_VERSION });
    expect(await schemaVersion(pools[1]!, { schema })).toBe(LATEST_MIGRATION_VERSION);
  } finally {
    await pools[0]!.query(`drop schema if exists "${schema}" cascade`);
    await Promise.all(pools.map((p) => p.end()));
  }
});

it('refuses a schema name that could inject SQL', async () => {
  const pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 1 });
  try {
    await expect(migrate(pool, { schema: 'x; drop table y' })).rejects.toBeInstanceOf(OutboxValidationError);
  } finally {
    await pool.end();
  }
});
