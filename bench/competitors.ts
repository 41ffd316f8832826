/**
 * graphile-worker 0.17.3 and pg-boss 10.4.2 on the same Postgres, in their best documented
 * settings for this workload (graphile-worker: concurrentJobs 24, maxPoolSize 25, localQueue
 * 500, completeJobBatchDelay/failJobBatchDelay 0 as in its performance docs; pg-boss: 10
 * work() loops of batchSize 500 each, polling 0.5 s, its minimum) and, for graphile-worker,
 * its defaults too. Each function returns the same measures as the outbox-relay ones.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger, makeWorkerUtils, run, runMigrations } from 'graphile-worker';
import type pg from 'pg';
import PgBoss from 'pg-boss';
import { producerPayload } from './producer.js';
import { benchPool, uniqueName } from './support/bench-pool.js';

const silent = new Logger(() => () => undefined);

/** Settings of one graphile-worker run. */
export interface GraphileSettings {
  label: string;
  concurrency: number;
  localQueueSize: number;
  batched: boolean;
}

/** The settings graphile-worker documents for throughput, and its defaults. */
export const GRAPHILE_BEST: GraphileSettings = {
  label: 'best',
  concurrency: 24,
  localQueueSize: 500,
  batched: true,
};
export const GRAPHILE_DEFAULT: GraphileSettings = {
  label: 'default',
  concurrency: 10,
  localQueueSize: -1,
  batched: false,
};

function graphilePreset(s: GraphileSettings) {
  const worker = {
    concurrentJobs: s.concurrency,
    maxPoolSize: s.concurrency + 1,
    ...(s.localQueueSize > 0 ? { localQueue: { size: s.localQueueSize } } : {}),
    ...(s.batched ? { completeJobBatchDelay: 0, failJobBatchDelay: 0 } : {}),
  };
  return { worker };
}

export const describeGraphile = (s: GraphileSettings) =>
  `${s.label}: concurrency ${s.concurrency}, ${s.localQueueSize > 0 ? `localQueue ${s.localQueueSize}` : 'no localQueue'}, ${s.batched ? 'batched completion' : 'per-job completion'}`;

/** graphile-worker's schema, migrated once for the whole run. */
export async function prepareGraphile(url: string): Promise<string> {
  const schema = uniqueName('gw');
  await runMigrations({ connectionString: url, schema, logger: silent });
  return schema;
}

/** Pre-inserts `messages` jobs and drains them with a no-op task; stops when the job table is empty. */
export async function drainGraphile(
  url: string,
  schema: string,
  messages: number,
  s: GraphileSettings,
): Promise<{ perSecond: number; seconds: number }> {
  const utils = await makeWorkerUtils({ connectionString: url, schema, logger: silent });
  const pool = benchPool(url, s.concurrency + 2);
  try {
    for (let i = 0; i < messages; i += 5_000) {
      const n = Math.min(5_000, messages - i);
      await utils.addJobs(
        Array.from({ length: n }, (_, j) => ({ identifier: 'noop', payload: producerPayload(i + j) })),
      );
    }
    await pool.query(`vacuum analyze "${schema}"._private_jobs`);
    await pool.query('checkpoint').catch(() => undefined); // needs superuser; best effort
    let handled = 0;
    const started = performance.now();
    const runner = await run({
      pgPool: pool,
      schema,
      logger: silent,
      noHandleSignals: true,
      taskList: {
        noop: async () => {
          handled++;
        },
      },
      preset: graphilePreset(s),
    });
    // Completed jobs are deleted: the drain is over when the table is empty (batched
    // completions written), the same end point as outbox-relay's "marked delivered".
    for (;;) {
      if (handled >= messages) {
        const { rows } = await pool.query(`select count(*)::int as n from "${schema}"._private_jobs`);
        if (rows[0].n === 0) break;
      }
      await sleep(handled >= messages ? 2 : 10);
    }
    const seconds = (performance.now() - started) / 1000;
    await runner.stop();
    return { perSecond: messages / seconds, seconds };
  } finally {
    await utils.release();
    await pool.end();
  }
}

/** The graphile-worker producer write: add_job inside the caller's transaction (it NOTIFYs). */
export const graphileWrite = (schema: string) => (c: pg.Client, seq: number) =>
  c.query(`select "${schema}".add_job('noop', $1::json)`, [JSON.stringify(producerPayload(seq))]);

/** Starts a graphile-worker runner whose task records when each job started. */
export async function startGraphileLatency(
  url: string,
  schema: string,
  onStart: (seq: number) => void,
): Promise<() => Promise<void>> {
  const pool = benchPool(url, 12);
  const runner = await run({
    pgPool: pool,
    schema,
    logger: silent,
    noHandleSignals: true,
    taskList: {
      noop: async (payload) => {
        onStart((payload as { orderId: number }).orderId);
      },
    },
    // Low latency is its LISTEN/NOTIFY path; a local queue only adds batching delay here.
    preset: graphilePreset({ label: 'latency', concurrency: 10, localQueueSize: -1, batched: true }),
  });
  return async () => {
    await runner.stop();
    await pool.end();
  };
}

/** pg-boss settings used for every scenario. */
export const PGBOSS_SETTINGS = { workers: 10, batchSize: 500, pollingIntervalSeconds: 0.5 };
export const describePgBoss = () =>
  `${PGBOSS_SETTINGS.workers} work() loops, batchSize ${PGBOSS_SETTINGS.batchSize}, polling ${PGBOSS_SETTINGS.pollingIntervalSeconds} s`;

/** A started pg-boss instance with its own schema. */
export async function startPgBoss(url: string): Promise<{ boss: PgBoss; schema: string }> {
  const schema = uniqueName('pgboss');
  const boss = new PgBoss({ connectionString: url, schema, max: 20, supervise: false, schedule: false });
  boss.on('error', () => undefined);
  await boss.start();
  return { boss, schema };
}

/** Starts the benchmark's pg-boss workers (PGBOSS_SETTINGS) on `queue`. */
async function startPgBossWorkers(
  boss: PgBoss,
  queue: string,
  handle: (jobs: PgBoss.Job<unknown>[]) => void,
): Promise<void> {
  for (let w = 0; w < PGBOSS_SETTINGS.workers; w++) {
    await boss.work(
      queue,
      {
        batchSize: PGBOSS_SETTINGS.batchSize,
        pollingIntervalSeconds: PGBOSS_SETTINGS.pollingIntervalSeconds,
      },
      async (jobs: PgBoss.Job<unknown>[]) => handle(jobs),
    );
  }
}

/** Pre-inserts `messages` jobs (plus `retained` completed ones) and drains them with 10 batch workers. */
export async function drainPgBoss(
  url: string,
  pgb: { boss: PgBoss; schema: string },
  messages: number,
  retained = 0,
): Promise<{ perSecond: number; seconds: number }> {
  const { boss, schema } = pgb;
  const queue = uniqueName('q');
  await boss.createQueue(queue);
  const pool = benchPool(url, 2);
  try {
    if (retained > 0) {
      await pool.query(
        `insert into "${schema}".job (name, data, state, started_on, completed_on)
         select $1, jsonb_build_object('seq', g), 'completed', now(), now() from generate_series(1, $2::int) g`,
        [queue, retained],
      );
    }
    for (let i = 0; i < messages; i += 5_000) {
      const n = Math.min(5_000, messages - i);
      await boss.insert(Array.from({ length: n }, (_, j) => ({ name: queue, data: producerPayload(i + j) })));
    }
    await pool.query(`vacuum analyze "${schema}".job`);
    await pool.query('checkpoint').catch(() => undefined); // needs superuser; best effort
    let handled = 0;
    const started = performance.now();
    await startPgBossWorkers(boss, queue, (jobs) => {
      handled += jobs.length;
    });
    for (;;) {
      if (handled >= messages) {
        const { rows } = await pool.query(
          `select count(*)::int as n from "${schema}".job where name = $1 and state <> 'completed'`,
          [queue],
        );
        if (rows[0].n === 0) break;
      }
      await sleep(handled >= messages ? 2 : 10);
    }
    const seconds = (performance.now() - started) / 1000;
    await boss.offWork(queue);
    return { perSecond: messages / seconds, seconds };
  } finally {
    await boss.deleteQueue(queue).catch(() => undefined);
    await pool.end();
  }
}

/** The pg-boss producer write: send() through the caller's transaction client. */
export function pgBossWrite(boss: PgBoss, queue: string) {
  return (c: pg.Client, seq: number) =>
    boss.send(queue, producerPayload(seq), {
      db: { executeSql: (text: string, values: unknown[]) => c.query(text, values) },
    } as never);
}

/** Starts pg-boss workers on `queue` that record when each job started. */
export async function startPgBossLatency(
  boss: PgBoss,
  queue: string,
  onStart: (seq: number) => void,
): Promise<() => Promise<void>> {
  await startPgBossWorkers(boss, queue, (jobs) => {
    for (const job of jobs) onStart((job.data as { orderId: number }).orderId);
  });
  return async () => {
    await boss.offWork(queue);
  };
}
