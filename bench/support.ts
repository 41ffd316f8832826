/**
 * Shared pieces of the benchmarks: statistics, a silent no-op publisher and schema names.
 * Every bench module imports these so the numbers are computed the same way everywhere.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import type { Publisher } from '../src/publishers/publisher.js';

/** The p-th percentile of an ascending array (nearest rank, as bench/webhook.ts computes it). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** The median of unsorted numbers. */
export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

/** A fresh schema name, so runs never see each other's rows. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/** A publisher that does nothing: the drain measures the relay and the database, not a sink. */
export function noopPublisher(onPublish?: (body: string) => void): Publisher {
  return {
    name: 'noop',
    async publish(message) {
      onPublish?.(message.body);
    },
  };
}

/** True when `importMetaUrl` is the script node was started with (run directly, not imported). */
export function isMain(importMetaUrl: string): boolean {
  return process.argv[1] !== undefined && importMetaUrl === pathToFileURL(process.argv[1]).href;
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A pg Pool that ignores errors on idle clients: when the bench stops its Postgres, idle
 * connections are terminated, which is expected and must not crash the process.
 */
export function benchPool(url: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', () => undefined);
  return pool;
}
