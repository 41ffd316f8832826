import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * A pg Pool that ignores errors on idle clients: when the bench stops its Postgres, idle
 * connections are terminated, which is expected and must not crash the process.
 */
export function benchPool(url: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', () => undefined);
  return pool;
}

/** A fresh schema (or table) name, so runs never see each other's rows. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}
