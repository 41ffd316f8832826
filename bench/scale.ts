import { SYSTEM_CLOCK } from '../src/core/foundation/clock.js';
/**
 * Scale: the same backlog drained by 1, 2 or 4 relay processes on one database (a lock convoy
 * would make more relays slower), and the claim statement's time with few and many delivered
 * rows retained (the partial claim index should make it flat).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { OutboxStore } from '../src/core/store/index.js';
import { fillOutbox } from './drain.js';
import { benchPool, uniqueName } from './support/bench-pool.js';
import { median } from './support/stats.js';

const CHILD = fileURLToPath(new URL('./relay-child.ts', import.meta.url));

/** Drains `messages` with `relays` child processes; returns messages/s from "go" to empty. */
export async function drainWithProcesses(
  url: string,
  messages: number,
  relays: number,
): Promise<{ perSecond: number; seconds: number; perRelay: number[] }> {
  const pool = benchPool(url, 2);
  const schema = uniqueName('bench_scale');
  const children = Array.from({ length: relays }, () =>
    fork(CHILD, [url, schema], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  try {
    await fillOutbox(pool, schema, messages);
    await Promise.all(children.map((c) => new Promise((resolve) => c.once('message', resolve))));
    const started = Date.now();
    for (const c of children) c.send('go');
    // Poll rarely: a count over the backlog is not free, and this process shares the 2 cores.
    // The end time comes from the relays themselves (their last 'delivered', after write-back).
    for (;;) {
      await sleep(100);
      const { rows } = await pool.query(
        `select count(*)::int as n from "${schema}".messages where delivered_at is null and dead_at is null`,
      );
      if (rows[0].n === 0) break;
    }
    const reports = await Promise.all(
      children.map(
        (c) =>
          new Promise<{ delivered: number; lastDeliveredAt: number }>((resolve) => {
            c.once('message', (m: { delivered: number; lastDeliveredAt: number }) => resolve(m));
            c.send('stop');
          }),
      ),
    );
    const seconds = (Math.max(...reports.map((r) => r.lastDeliveredAt)) - started) / 1000;
    const perRelay = reports.map((r) => r.delivered);
    return { perSecond: messages / seconds, seconds, perRelay };
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill();
    await pool.query(`drop schema if exists "${schema}" cascade`).catch(() => undefined);
    await pool.end();
  }
}

/**
 * Median time of the claim statement (batch of 200 from a 2,000-message backlog) with
 * `retained` delivered rows in the table. Each claim is rolled back so every sample sees
 * the same table.
 */
export async function claimTime(url: string, retained: number): Promise<number> {
  const pool = benchPool(url, 2);
  const schema = uniqueName('bench_claim');
  try {
    await fillOutbox(pool, schema, 2_000, retained);
    const store = new OutboxStore(schema);
    const client = await pool.connect();
    const run = async <Row>(text: string, values?: readonly unknown[]) =>
      (await client.query(text, values as unknown[])).rows as Row[];
    const samples: number[] = [];
    try {
      for (let i = 0; i < 60; i++) {
        await client.query('begin');
        const t = performance.now();
        await store.claim(run, { clock: SYSTEM_CLOCK, leaseMs: 30_000, limit: 200, workerId: 'bench' });
        if (i >= 10) samples.push(performance.now() - t);
        await client.query('rollback');
      }
    } finally {
      client.release();
    }
    return median(samples);
  } finally {
    await pool.query(`drop schema if exists "${schema}" cascade`).catch(() => undefined);
    await pool.end();
  }
}
