/**
 * The benchmark entry (`npm run bench`): outbox-relay side by side with graphile-worker and
 * pg-boss on one Postgres (embedded, or DATABASE_URL), systems alternating within each
 * scenario. Prints one table, writes bench/results/latest.json and latest.svg.
 * Run: npx tsx bench/run.ts [--size small|full] [--only drain,producer,latency,scale,webhook,routeros,nats]
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { NOOP_LOGGER } from '../src/core/logger.js';
import { migrate } from '../src/core/migrate.js';
import { createOutbox } from '../src/core/outbox.js';
import { createRelay, DEFAULT_BATCH_SIZE, DEFAULT_CONCURRENCY } from '../src/core/relay.js';
import { startPostgres } from '../test/support/postgres-server.js';
import {
  describeGraphile,
  describePgBoss,
  drainGraphile,
  drainPgBoss,
  GRAPHILE_BEST,
  GRAPHILE_DEFAULT,
  graphileWrite,
  pgBossWrite,
  prepareGraphile,
  startGraphileLatency,
  startPgBoss,
  startPgBossLatency,
} from './competitors.js';
import { drainOutbox } from './drain.js';
import { steadyLatency } from './latency.js';
import { produce, producerPayload, referenceWrites } from './producer.js';
import { claimTime, drainWithProcesses } from './scale.js';
import { benchPool, median, noopPublisher, uniqueName } from './support.js';

const SIZES = {
  small: {
    drain: 20_000,
    retained: 200_000,
    reps: 3,
    retainedReps: 1,
    tx: 3_000,
    latencySeconds: 8,
    scale: 20_000,
    webhook: 10_000,
    routeros: 300,
    nats: 10_000,
  },
  full: {
    drain: 100_000,
    retained: 1_000_000,
    reps: 3,
    retainedReps: 1,
    tx: 10_000,
    latencySeconds: 20,
    scale: 100_000,
    webhook: 50_000,
    routeros: 2_000,
    nats: 50_000,
  },
} as const;

/** One line of the table. */
interface Row {
  scenario: string;
  system: 'outbox-relay' | 'graphile-worker' | 'pg-boss' | 'reference';
  settings: string;
  value: number;
  unit: string;
  /** Throughputs: higher is better; latencies and times: lower. */
  higherIsBetter: boolean;
  detail?: string;
  ratio?: number;
}

const args = process.argv.slice(2);
const argValue = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const sizeName = (argValue('--size') ?? 'small') as keyof typeof SIZES;
if (!(sizeName in SIZES)) throw new Error(`--size must be small or full, got "${sizeName}"`);
const size = SIZES[sizeName];
const only = argValue('--only')?.split(',');
const wanted = (s: string) => !only || only.includes(s);
const rows: Row[] = [];
const log = (line: string) => process.stderr.write(`${line}\n`);

function add(row: Row): void {
  rows.push(row);
  log(
    `  ${row.scenario} | ${row.system} | ${row.settings} | ${fmt(row.value)} ${row.unit}${row.detail ? ` (${row.detail})` : ''}`,
  );
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
}

/** Runs each system's thunk `reps` times, rotating which goes first, and returns the per-system medians. */
async function alternate<K extends string>(reps: number, systems: Record<K, () => Promise<number>>) {
  const keys = Object.keys(systems) as K[];
  const samples = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < keys.length; i++) {
      const k = keys[(i + r) % keys.length]!;
      samples[k].push(await systems[k]());
    }
  }
  return Object.fromEntries(
    keys.map((k) => [k, { median: median(samples[k]), samples: samples[k] }]),
  ) as Record<K, { median: number; samples: number[] }>;
}

const samplesText = (s: number[]) => (s.length > 1 ? `runs ${s.map((x) => fmt(x)).join(' / ')}` : undefined);

async function main(): Promise<void> {
  // The box may be shared: record how busy it was, so a table from a loaded run reads as such.
  const loadAtStart = os.loadavg()[0] ?? 0;
  const server = await startPostgres();
  const url = server.url;
  log(
    `bench ${sizeName} on ${os.cpus().length} cores, Node ${process.version}, Postgres from ${server.source}`,
  );
  const admin = benchPool(url, 1);
  admin.on('error', () => undefined);
  const { rows: ver } = await admin.query('show server_version');
  const gwSchema = await prepareGraphile(url);
  const pgb = await startPgBoss(url);
  try {
    if (wanted('drain')) {
      log(`drain: ${size.drain} pre-inserted, no-op handler, median of ${size.reps}`);
      const r = await alternate(size.reps, {
        outbox: async () => (await drainOutbox({ url, messages: size.drain })).perSecond,
        graphile: async () => (await drainGraphile(url, gwSchema, size.drain, GRAPHILE_BEST)).perSecond,
        pgboss: async () => (await drainPgBoss(url, pgb, size.drain)).perSecond,
      });
      add({
        scenario: `drain ${size.drain / 1000}k`,
        system: 'outbox-relay',
        settings: `defaults (batchSize ${DEFAULT_BATCH_SIZE}, concurrency ${DEFAULT_CONCURRENCY}), pg Pool`,
        value: r.outbox.median,
        unit: 'msg/s',
        higherIsBetter: true,
        detail: samplesText(r.outbox.samples),
      });
      add({
        scenario: `drain ${size.drain / 1000}k`,
        system: 'graphile-worker',
        settings: describeGraphile(GRAPHILE_BEST),
        value: r.graphile.median,
        unit: 'jobs/s',
        higherIsBetter: true,
        detail: samplesText(r.graphile.samples),
      });
      add({
        scenario: `drain ${size.drain / 1000}k`,
        system: 'pg-boss',
        settings: describePgBoss(),
        value: r.pgboss.median,
        unit: 'jobs/s',
        higherIsBetter: true,
        detail: samplesText(r.pgboss.samples),
      });
      if (sizeName === 'full') {
        const d = await drainGraphile(url, gwSchema, 20_000, GRAPHILE_DEFAULT);
        add({
          scenario: `drain ${size.drain / 1000}k`,
          system: 'graphile-worker',
          settings: `${describeGraphile(GRAPHILE_DEFAULT)} (20k jobs)`,
          value: d.perSecond,
          unit: 'jobs/s',
          higherIsBetter: true,
        });
      }
      log(`drain with ${size.retained} delivered rows retained`);
      const rr = await alternate(size.retainedReps, {
        outbox: async () =>
          (await drainOutbox({ url, messages: size.drain, retained: size.retained })).perSecond,
        // graphile-worker deletes completed jobs: it has nothing to retain, so this is its plain drain.
        graphile: async () => (await drainGraphile(url, gwSchema, size.drain, GRAPHILE_BEST)).perSecond,
        pgboss: async () => (await drainPgBoss(url, pgb, size.drain, size.retained)).perSecond,
      });
      const sc = `drain ${size.drain / 1000}k, ${size.retained / 1000}k retained`;
      add({
        scenario: sc,
        system: 'outbox-relay',
        settings: 'defaults; delivered rows kept in the table',
        value: rr.outbox.median,
        unit: 'msg/s',
        higherIsBetter: true,
      });
      add({
        scenario: sc,
        system: 'graphile-worker',
        settings: 'best; deletes completed jobs, nothing retained',
        value: rr.graphile.median,
        unit: 'jobs/s',
        higherIsBetter: true,
      });
      add({
        scenario: sc,
        system: 'pg-boss',
        settings: `${describePgBoss()}; completed jobs kept`,
        value: rr.pgboss.median,
        unit: 'jobs/s',
        higherIsBetter: true,
      });
    }

    if (wanted('producer')) {
      const w = await referenceWrites(url);
      const queue = uniqueName('q');
      await pgb.boss.createQueue(queue);
      for (const clients of [1, 8]) {
        const tx = size.tx * (clients === 1 ? 1 : 2);
        log(`producer: ${tx} single-message transactions, ${clients} client(s)`);
        const r = await alternate(4, {
          bare: () => produce(url, { transactions: tx / 4, clients, write: w.bare }),
          outbox: () => produce(url, { transactions: tx / 4, clients, write: w.outbox }),
          graphile: () => produce(url, { transactions: tx / 4, clients, write: graphileWrite(gwSchema) }),
          pgboss: () => produce(url, { transactions: tx / 4, clients, write: pgBossWrite(pgb.boss, queue) }),
          notify: () => produce(url, { transactions: tx / 4, clients, write: w.bareNotify }),
        });
        const sc = `producer, ${clients} client${clients > 1 ? 's' : ''}`;
        const ofFloor = (v: number) => `${Math.round((100 * v) / r.bare.median)}% of the bare-INSERT floor`;
        add({
          scenario: sc,
          system: 'reference',
          settings: 'bare INSERT into a plain table (the floor)',
          value: r.bare.median,
          unit: 'tx/s',
          higherIsBetter: true,
        });
        add({
          scenario: sc,
          system: 'reference',
          settings: 'bare INSERT + pg_notify',
          value: r.notify.median,
          unit: 'tx/s',
          higherIsBetter: true,
          detail: ofFloor(r.notify.median),
        });
        add({
          scenario: sc,
          system: 'outbox-relay',
          settings: 'outbox.add (pg client, no NOTIFY)',
          value: r.outbox.median,
          unit: 'tx/s',
          higherIsBetter: true,
          detail: ofFloor(r.outbox.median),
        });
        add({
          scenario: sc,
          system: 'graphile-worker',
          settings: 'add_job() in the transaction (NOTIFY)',
          value: r.graphile.median,
          unit: 'tx/s',
          higherIsBetter: true,
          detail: ofFloor(r.graphile.median),
        });
        add({
          scenario: sc,
          system: 'pg-boss',
          settings: 'send() through the transaction client',
          value: r.pgboss.median,
          unit: 'tx/s',
          higherIsBetter: true,
          detail: ofFloor(r.pgboss.median),
        });
      }
      await pgb.boss.deleteQueue(queue).catch(() => undefined);
      await w.cleanup();
    }

    if (wanted('latency')) {
      const rate = 500;
      log(`latency: commit -> start at ${rate}/s for ${size.latencySeconds} s each`);
      const sc = `latency p99 at ${rate}/s`;
      const outboxLatency = async (wake: boolean) => {
        const schema = uniqueName('bench_latency');
        const pool = benchPool(url, 4);
        await migrate(pool, { schema });
        let onStart: (seq: number) => void = () => undefined;
        const relay = createRelay({
          db: pool,
          schema,
          logger: NOOP_LOGGER,
          publishers: { noop: noopPublisher((body) => onStart(JSON.parse(body).orderId)) },
        });
        const outbox = createOutbox({ schema, ...(wake ? { onAdded: () => relay.wake() } : {}) });
        const r = await steadyLatency(
          url,
          {
            rate,
            seconds: size.latencySeconds,
            write: (c, seq) =>
              outbox.add(c, { type: 'order.created', destination: 'noop', payload: producerPayload(seq) }),
          },
          async (cb) => {
            onStart = cb;
            relay.start();
            return async () => {
              await relay.stop();
              await pool.query(`drop schema if exists "${schema}" cascade`);
              await pool.end();
            };
          },
        );
        return r;
      };
      const poll = await outboxLatency(false);
      const wake = await outboxLatency(true);
      const gw = await steadyLatency(
        url,
        { rate, seconds: size.latencySeconds, write: graphileWrite(gwSchema) },
        (cb) => startGraphileLatency(url, gwSchema, cb),
      );
      const queue = uniqueName('q');
      await pgb.boss.createQueue(queue);
      const pb = await steadyLatency(
        url,
        { rate, seconds: size.latencySeconds, write: pgBossWrite(pgb.boss, queue) },
        (cb) => startPgBossLatency(pgb.boss, queue, cb),
      );
      const d = (r: { p50: number; missing: number }) =>
        `p50 ${fmt(r.p50)} ms${r.missing ? `, ${r.missing} not started` : ''}`;
      add({
        scenario: sc,
        system: 'outbox-relay',
        settings: 'polling only (pollIntervalMs default)',
        value: poll.p99,
        unit: 'ms',
        higherIsBetter: false,
        detail: d(poll),
      });
      add({
        scenario: sc,
        system: 'outbox-relay',
        settings: 'same-process wake-up (onAdded: relay.wake)',
        value: wake.p99,
        unit: 'ms',
        higherIsBetter: false,
        detail: d(wake),
      });
      add({
        scenario: sc,
        system: 'graphile-worker',
        settings: 'LISTEN/NOTIFY, concurrency 10, batched completion',
        value: gw.p99,
        unit: 'ms',
        higherIsBetter: false,
        detail: d(gw),
      });
      add({
        scenario: sc,
        system: 'pg-boss',
        settings: describePgBoss(),
        value: pb.p99,
        unit: 'ms',
        higherIsBetter: false,
        detail: d(pb),
      });
    }

    if (wanted('scale')) {
      log(`scale: ${size.scale} messages drained by 1, 2, 4 relay processes`);
      for (const n of [1, 2, 4]) {
        const r = await drainWithProcesses(url, size.scale, n);
        add({
          scenario: `scale, ${size.scale / 1000}k drain`,
          system: 'outbox-relay',
          settings: `${n} relay process${n > 1 ? 'es' : ''}`,
          value: r.perSecond,
          unit: 'msg/s',
          higherIsBetter: true,
          detail: `per relay ${r.perRelay.join(' / ')}`,
        });
      }
      for (const retained of [10_000, size.retained]) {
        const ms = await claimTime(url, retained);
        add({
          scenario: 'claim time (200 rows)',
          system: 'outbox-relay',
          settings: `${retained / 1000}k delivered rows retained`,
          value: ms,
          unit: 'ms',
          higherIsBetter: false,
        });
      }
    }

    const script = (name: string) => fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
    const runScript = async (name: string, argv: string[]) =>
      (
        await promisify(execFile)(process.execPath, ['--import', 'tsx', script(name), ...argv], {
          env: { ...process.env, DATABASE_URL: url },
          maxBuffer: 1 << 20,
        })
      ).stdout;
    if (wanted('webhook')) {
      log(`webhook: bench/webhook.ts ${size.webhook}`);
      const out = await runScript('webhook', [String(size.webhook)]);
      const m = /throughput: (\d+) deliveries\/s/.exec(out);
      const lat = /one delivery under load: (.*)/.exec(out);
      add({
        scenario: 'webhook',
        system: 'outbox-relay',
        settings: `bench/webhook.ts ${size.webhook}: keep-alive receiver, concurrency 32`,
        value: m ? Number(m[1]) : Number.NaN,
        unit: 'deliveries/s',
        higherIsBetter: true,
        detail: lat?.[1],
      });
    }
    if (wanted('routeros')) {
      log(`routeros: bench/routeros.ts ${size.routeros}`);
      const out = await runScript('routeros', [String(size.routeros)]);
      for (const m of out.matchAll(/(\d+) router\(s\): .* = (\d+) commands\/s; (.*) per command/g)) {
        add({
          scenario: 'routeros',
          system: 'outbox-relay',
          settings: `${m[1]} fake router(s), ${size.routeros} commands each`,
          value: Number(m[2]),
          unit: 'commands/s',
          higherIsBetter: true,
          detail: m[3],
        });
      }
    }
    if (wanted('nats')) {
      log(`nats: bench/nats.ts ${size.nats}`);
      const out = await runScript('nats', [String(size.nats)]);
      const relay = /nats relay: (\d+) msg\/s .*; publish (.*)/.exec(out);
      const floor = /nats floor: (\d+) msg\/s \((.*)\)/.exec(out);
      const ratio = /nats ratio: (.*)/.exec(out);
      add({
        scenario: 'nats jetstream',
        system: 'outbox-relay',
        settings: `bench/nats.ts ${size.nats}: relay drain to a file-storage stream, concurrency 32`,
        value: relay ? Number(relay[1]) : Number.NaN,
        unit: 'msg/s',
        higherIsBetter: true,
        detail: [relay?.[2], ratio?.[1]].filter(Boolean).join('; '),
      });
      add({
        scenario: 'nats jetstream',
        system: 'reference',
        settings: 'floor: same client straight to the stream, no database',
        value: floor ? Number(floor[1]) : Number.NaN,
        unit: 'msg/s',
        higherIsBetter: true,
        detail: floor?.[2],
      });
    }
  } finally {
    await pgb.boss.stop({ graceful: false, wait: true }).catch(() => undefined);
    await admin.end();
    await server.stop();
  }

  // Ratio to graphile-worker's row in the same scenario (its best setting: the first one added).
  for (const row of rows) {
    const gw = rows.find((r) => r.scenario === row.scenario && r.system === 'graphile-worker');
    if (gw && gw !== row) row.ratio = row.higherIsBetter ? row.value / gw.value : gw.value / row.value;
  }
  const machine = `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GB, Node ${process.version}, PostgreSQL ${ver[0].server_version}, 1-min load ${loadAtStart.toFixed(1)} at start / ${(os.loadavg()[0] ?? 0).toFixed(1)} at end`;
  printTable(machine);
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    `${dir}latest.json`,
    `${JSON.stringify({ size: sizeName, machine, date: new Date().toISOString(), rows }, null, 2)}\n`,
  );
  writeFileSync(`${dir}latest.svg`, chart(machine));
  log('wrote bench/results/latest.json and bench/results/latest.svg');
}

function printTable(machine: string): void {
  const header = ['scenario', 'system', 'settings', 'result', 'vs graphile-worker'];
  const body = rows.map((r) => [
    r.scenario,
    r.system,
    r.settings,
    `${fmt(r.value)} ${r.unit}${r.detail ? ` (${r.detail})` : ''}`,
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}x${r.higherIsBetter ? '' : ' (lower is better)'}`,
  ]);
  console.log(`\noutbox-relay bench (${sizeName}) on ${machine}`);
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  for (const line of body) console.log(`| ${line.join(' | ')} |`);
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A hand-written horizontal bar chart: one panel per scenario, bars scaled within the panel. */
function chart(machine: string): string {
  const colors: Record<Row['system'], string> = {
    'outbox-relay': '#2f7d32',
    'graphile-worker': '#1f5fa8',
    'pg-boss': '#b0582a',
    reference: '#888888',
  };
  const scenarios = [...new Set(rows.map((r) => r.scenario))];
  const width = 900;
  const barH = 18;
  let y = 40;
  const parts: string[] = [];
  for (const sc of scenarios) {
    const group = rows.filter((r) => r.scenario === sc);
    const max = Math.max(...group.map((r) => (Number.isFinite(r.value) ? r.value : 0)), 1e-9);
    const lowerBetter = group[0]!.higherIsBetter ? '' : ' (lower is better)';
    parts.push(`<text x="10" y="${y}" font-weight="bold">${escapeXml(sc + lowerBetter)}</text>`);
    y += 8;
    for (const r of group) {
      const w = Math.max(1, ((Number.isFinite(r.value) ? r.value : 0) / max) * 420);
      const label = `${r.system}: ${r.settings}`.slice(0, 52);
      parts.push(
        `<text x="10" y="${y + 13}" font-size="11">${escapeXml(label)}</text>`,
        `<rect x="340" y="${y}" width="${w.toFixed(1)}" height="${barH - 4}" fill="${colors[r.system]}"/>`,
        `<text x="${(345 + w).toFixed(1)}" y="${y + 12}" font-size="11">${escapeXml(`${fmt(r.value)} ${r.unit}`)}</text>`,
      );
      y += barH;
    }
    y += 14;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 10}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="20" font-size="14" font-weight="bold">${escapeXml(`outbox-relay vs graphile-worker vs pg-boss (${sizeName}) - ${machine}`)}</text>
${parts.join('\n')}
</svg>
`;
}

await main();
