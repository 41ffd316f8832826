// Status page JSON routes against a grown table: npx tsx test/soak/status-timing.ts [retained, default 5000000]
// Fills `retained` delivered rows 40 days old (as the growth scenario does), plus the last hour a
// busy relay leaves behind (100 rows/s for an hour: 360k delivered), a backlog and dead rows,
// then times each route's read (median of 5) with and without the archive's index on delivered_at.
// Delivered rows go to messages_archive in delivery order, as the relay's write-back appends them.
import { sqlRunner } from '../../src/core/foundation/queryable.js';
import { StatusStore } from '../../src/core/store/status-store.js';
import { DeliveredMinutes } from '../../src/cli/status-page/delivered-minutes.js';
import { FailureCounters } from '../../src/cli/status-page/failure-counters.js';
import {
  readDeadGroups,
  readDestinations,
  readStatus,
  readThroughput,
  type StatusSources,
} from '../../src/cli/status-page/status-report.js';
import { soakDatabase } from './soak-database.js';

const retained = Number(process.argv[2] ?? 5_000_000);
const LAST_HOUR = 360_000;
const t = await soakDatabase();

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  await fn(); // plans cached, pool warm
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    await fn();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[2]!;
}

try {
  const m = `"${t.schema}".messages`;
  const archive = `"${t.schema}".messages_archive`;
  // Oldest first, as deliveries append; ids from the hot table's identity, as the move keeps them.
  const fillArchive = (n: number, deliveredAt: string) =>
    t.pool.query(
      `insert into ${archive} (id, message_id, kind, type, destination, payload, headers, attempts, max_attempts,
                               created_at, available_at, delivered_at)
       select nextval(pg_get_serial_sequence('${m}', 'id')), gen_random_uuid(), 'event', 'retained',
              'webhook:t' || (g % 50), '{}', '{}', 1, 25, at, at, at
         from (select g, ${deliveredAt} as at from generate_series(1, $1) g) r
        order by at`,
      [n],
    );
  const fill = (n: number, select: string) =>
    t.pool.query(
      `insert into ${m} (message_id, type, destination, payload, status, attempts, last_error, dead_reason,
                         created_at, available_at, delivered_at, dead_at)
       select gen_random_uuid(), 'retained', ${select} from generate_series(1, $1) g`,
      [n],
    );
  const started = performance.now();
  await fillArchive(retained, `now() - interval '40 days'`);
  await fillArchive(LAST_HOUR, 'now() - make_interval(secs => g / 100.0)');
  await fill(
    20_000,
    `'routeros:tower-' || (g % 20), '{}', 'pending', 3, 'router unreachable', null,
     now() - interval '1 hour', now() + interval '1 minute', null, null`,
  );
  await fill(
    10_000,
    `'webhook:t' || (g % 50), '{}', 'dead', 25,  'gave up after 25 attempts', 'max_attempts',
     now() - interval '2 days', now(), null, now() - make_interval(secs => g)`,
  );
  await t.pool.query(`vacuum analyze ${m}`);
  await t.pool.query(`vacuum analyze ${archive}`);
  const fillMs = performance.now() - started;

  const sources: StatusSources = {
    db: t.db,
    schema: t.schema,
    failures: new FailureCounters(),
    delivered: new DeliveredMinutes(new StatusStore(t.schema)),
    actions: false,
  };
  const routes = {
    '/api/status': () => readStatus(sources),
    '/api/destinations': () => readDestinations(sources),
    '/api/throughput': () => readThroughput(sources),
    '/api/dead/groups': () => readDeadGroups(sources),
  };
  const withIndex: Record<string, number> = {};
  for (const [route, read] of Object.entries(routes)) withIndex[route] = await timed(read);

  const store = new StatusStore(t.schema);
  const run = sqlRunner(t.db);
  const now = await store.now(run);
  const hourAgo = new Date(now.getTime() - 3_600_000);
  const recentSince = new Date(now.getTime() - 300_000);
  const statements: Record<string, () => Promise<unknown>> = {
    openByDestination: () => store.openByDestination(run),
    'deliveredPerMinute (hour)': () => store.deliveredPerMinute(run, { since: hourAgo, recentSince }),
    'deliveredPerMinute (6 min)': () =>
      store.deliveredPerMinute(run, { since: new Date(now.getTime() - 360_000), recentSince }),
    deadPerMinute: () => store.deadPerMinute(run, { since: hourAgo, recentSince }),
    deadGroups: () => store.deadGroups(run, { limit: 500 }),
    seenWorkers: () => store.seenWorkers(run, { since: hourAgo }),
  };
  const statementMs: Record<string, number> = {};
  for (const [name, fn] of Object.entries(statements)) statementMs[name] = await timed(fn);
  const { rows: plan } = await t.pool.query(
    `explain select destination, date_trunc('minute', delivered_at), count(*) from ${archive}
      where delivered_at >= $1 group by 1, 2`,
    [new Date(now.getTime() - 3_600_000)],
  );

  await t.pool.query(`drop index "${t.schema}".messages_archive_delivered_idx`);
  const withoutIndex: Record<string, number> = {};
  for (const route of ['/api/destinations', '/api/throughput'] as const)
    withoutIndex[route] = await timed(routes[route]);

  console.log(
    `filled ${retained} retained + ${LAST_HOUR} last-hour delivered rows in ${(fillMs / 1000).toFixed(0)} s`,
  );
  console.log('| route | with messages_archive_delivered_idx | without |');
  console.log('|---|---|---|');
  for (const route of Object.keys(routes))
    console.log(
      `| ${route} | ${withIndex[route]!.toFixed(1)} ms | ${withoutIndex[route] ? `${withoutIndex[route]!.toFixed(1)} ms` : '-'} |`,
    );
  console.log('| statement | median |');
  console.log('|---|---|');
  for (const [name, ms] of Object.entries(statementMs)) console.log(`| ${name} | ${ms.toFixed(1)} ms |`);
  console.log(plan.map((r) => r['QUERY PLAN']).join('\n'));
} finally {
  await t.close();
}
