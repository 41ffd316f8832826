/**
 * The benchmark entry (`npm run bench`): outbox-relay side by side with graphile-worker and
 * pg-boss on one Postgres (embedded, or DATABASE_URL), systems alternating within each
 * scenario. Runs the scenarios registered in bench/scenarios/index.ts, prints one table,
 * writes bench/results/latest.json and latest.svg.
 * Run: npx tsx bench/run.ts [--size small|full] [--only name,name] [--help]
 */
import os from 'node:os';
import type PgBoss from 'pg-boss';
import { prepareGraphile, startPgBoss } from './competitors.js';
import { printTable, writeResults } from './report.js';
import { type BenchContext, fmt, type Row, SIZE_NAMES, type SizeName } from './scenario.js';
import { SCENARIOS } from './scenarios/index.js';
import { benchPool } from './support/bench-pool.js';
import { startBenchPostgres } from './support/bench-postgres.js';

const log = (line: string) => process.stderr.write(`${line}\n`);

function parseArgs(args: string[]): { sizeName: SizeName; only: string[] | undefined } {
  const value = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const sizeName = value('--size') ?? 'small';
  if (!(SIZE_NAMES as readonly string[]).includes(sizeName))
    throw new Error(`--size must be ${SIZE_NAMES.join(' or ')}, got "${sizeName}"`);
  const only = value('--only')?.split(',');
  const unknown = only?.filter((name) => !SCENARIOS.some((s) => s.name === name)) ?? [];
  if (unknown.length > 0)
    throw new Error(
      `--only: no scenario named ${unknown.map((n) => `"${n}"`).join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`,
    );
  return { sizeName: sizeName as SizeName, only };
}

/** Ratio of each row to graphile-worker's first row of the same label, where the scenario asks for it. */
function fillRatios(rows: Row[], scenarioOf: Map<Row, string>): void {
  for (const row of rows) {
    if (row.ratio !== undefined) continue;
    const scenario = SCENARIOS.find((s) => s.name === scenarioOf.get(row));
    if ((scenario?.ratio ?? 'graphile-worker') !== 'graphile-worker') continue;
    const gw = rows.find((r) => r.scenario === row.scenario && r.system === 'graphile-worker');
    if (!gw || gw === row) continue;
    row.ratio = row.higherIsBetter ? row.value / gw.value : gw.value / row.value;
    row.ratioOf = 'graphile-worker';
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help')) {
    console.log('npx tsx bench/run.ts [--size small|full] [--only name,name]\nscenarios:');
    for (const s of SCENARIOS) console.log(`  ${s.name.padEnd(10)} ${s.summary}`);
    return;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(args);
  } catch (error) {
    log(error instanceof Error ? error.message : String(error));
    process.exitCode = 2;
    return;
  }
  const { sizeName, only } = parsed;
  // The box may be shared: record how busy it was, so a table from a loaded run reads as such.
  const loadAtStart = os.loadavg()[0] ?? 0;
  const server = await startBenchPostgres();
  log(
    `bench ${sizeName} on ${os.cpus().length} cores, Node ${process.version}, Postgres from ${server.source}`,
  );
  const admin = benchPool(server.url, 1);
  const rows: Row[] = [];
  const scenarioOf = new Map<Row, string>();
  let graphile: Promise<string> | undefined;
  let pgBoss: Promise<{ boss: PgBoss; schema: string }> | undefined;
  let current = '';
  const ctx: BenchContext = {
    url: server.url,
    sizeName,
    log,
    add(row) {
      rows.push(row);
      scenarioOf.set(row, current);
      log(
        `  ${row.scenario} | ${row.system} | ${row.settings} | ${fmt(row.value)} ${row.unit}${row.detail ? ` (${row.detail})` : ''}`,
      );
    },
    graphileSchema: () => {
      graphile ??= prepareGraphile(server.url);
      return graphile;
    },
    pgBoss: () => {
      pgBoss ??= startPgBoss(server.url);
      return pgBoss;
    },
  };
  let version = '';
  try {
    version = (await admin.query('show server_version')).rows[0].server_version;
    for (const scenario of SCENARIOS) {
      if (only && !only.includes(scenario.name)) continue;
      current = scenario.name;
      await scenario.run(ctx, scenario.sizes[sizeName]);
    }
  } finally {
    if (pgBoss) await (await pgBoss).boss.stop({ graceful: false, wait: true }).catch(() => undefined);
    await admin.end();
    await server.stop();
  }
  fillRatios(rows, scenarioOf);
  const machine = `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GB, Node ${process.version}, PostgreSQL ${version}, 1-min load ${loadAtStart.toFixed(1)} at start / ${(os.loadavg()[0] ?? 0).toFixed(1)} at end`;
  printTable(rows, sizeName, machine);
  writeResults(rows, sizeName, machine);
  log('wrote bench/results/latest.json and bench/results/latest.svg');
}

await main();
