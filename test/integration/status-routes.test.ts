import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LATEST_MIGRATION_VERSION } from '../../src/core/migrations/migrate.js';
import type { RunningHttpServer } from '../../src/cli/http/http-server.js';
import { DeliveredMinutes } from '../../src/cli/status-page/delivered-minutes.js';
import { FailureCounters } from '../../src/cli/status-page/failure-counters.js';
import { readDestinations } from '../../src/cli/status-page/status-report.js';
import { STATUS_PAGE_CSP } from '../../src/cli/status-page/status-routes.js';
import { StatusStore } from '../../src/core/store/status-store.js';
import type { Queryable } from '../../src/core/foundation/queryable.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { serveTestDatabase } from '../support/test-http-server.js';

const ADMIN_TOKEN = 'status-admin-token-0123456789';
const JSON_ROUTES = ['/api/status', '/api/destinations', '/api/throughput', '/api/dead/groups'];

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.close());

/**
 * Inserts `n` rows of one destination in one state, ages given in seconds before the
 * database's now (created_at, and delivered_at/dead_at for finished rows).
 */
async function rows(
  destination: string,
  n: number,
  row: {
    status: 'pending' | 'in_flight' | 'delivered' | 'dead';
    ageSeconds: number;
    finishedAgoSeconds?: number;
    attempts?: number;
    lastError?: string;
    deadReason?: string | null;
    lockedBy?: string;
  },
): Promise<void> {
  if (row.status === 'delivered') {
    // Delivered rows live in the archive (storage v2), ids from the hot table's identity.
    await t.pool.query(
      `insert into "${t.schema}".messages_archive
         (id, message_id, kind, type, destination, payload, headers, attempts, max_attempts,
          created_at, available_at, delivered_at)
       select nextval(pg_get_serial_sequence('"${t.schema}".messages', 'id')), gen_random_uuid(), 'event',
              'status.test', $1, '{"secret":"payload-must-not-show"}', '{}', $2, 25,
              now() - make_interval(secs => $3), now() - make_interval(secs => $3), now() - make_interval(secs => $4)
         from generate_series(1, $5)`,
      [destination, row.attempts ?? 1, row.ageSeconds, row.finishedAgoSeconds ?? row.ageSeconds, n],
    );
    return;
  }
  await t.pool.query(
    `insert into "${t.schema}".messages
       (message_id, type, destination, payload, status, attempts, last_error, dead_reason, locked_by, locked_until,
        created_at, available_at, delivered_at, dead_at)
     select gen_random_uuid(), 'status.test', $1, '{"secret":"payload-must-not-show"}', $2, $3, $4, $5, $6,
            case when $6::text is null then null else now() + interval '30 seconds' end,
            now() - make_interval(secs => $7), now() - make_interval(secs => $7),
            case when $2 = 'delivered' then now() - make_interval(secs => $8) end,
            case when $2 = 'dead' then now() - make_interval(secs => $8) end
       from generate_series(1, $9)`,
    [
      destination,
      row.status,
      row.attempts ?? (row.status === 'pending' ? 0 : 1),
      row.lastError ?? null,
      row.status === 'dead' ? (row.deadReason === undefined ? 'permanent' : row.deadReason) : null,
      row.lockedBy ?? null,
      row.ageSeconds,
      row.finishedAgoSeconds ?? row.ageSeconds,
      n,
    ],
  );
}

async function seed(): Promise<void> {
  await t.pool.query(`truncate "${t.schema}".messages, "${t.schema}".messages_archive`);
  // Healthy: deliveries in the last 5 and 60 minutes, one fresh pending, old history outside the hour.
  await rows('webhook:acme', 3, { status: 'delivered', ageSeconds: 130, finishedAgoSeconds: 120 });
  await rows('webhook:acme', 4, { status: 'delivered', ageSeconds: 1900, finishedAgoSeconds: 1800 });
  await rows('webhook:acme', 6, { status: 'delivered', ageSeconds: 7300, finishedAgoSeconds: 7200 });
  await rows('webhook:acme', 1, { status: 'pending', ageSeconds: 2 });
  // A router offline for an hour: retried, never delivered.
  await rows('routeros:tower-9', 5, {
    status: 'pending',
    ageSeconds: 3600,
    attempts: 4,
    lastError: 'connect ECONNREFUSED 10.0.0.9:8728',
  });
  await rows('routeros:tower-9', 1, {
    status: 'in_flight',
    ageSeconds: 3000,
    attempts: 5,
    lockedBy: 'relay-a',
  });
  // An endpoint that says 410 to everything: dead at once.
  await rows('webhook:broken', 2, {
    status: 'dead',
    ageSeconds: 60,
    finishedAgoSeconds: 60,
    lastError: 'HTTP 410 from endpoint',
  });
  await rows('webhook:broken', 1, {
    status: 'dead',
    ageSeconds: 700,
    finishedAgoSeconds: 600,
    deadReason: 'max_attempts',
    lastError: 'gave up after 3 attempts',
  });
  await rows('webhook:broken', 1, {
    status: 'dead',
    ageSeconds: 9000,
    finishedAgoSeconds: 9000,
    deadReason: null,
  });
  // No relay has a publisher for it.
  await rows('nats:orders', 2, { status: 'pending', ageSeconds: 600 });
  // Behind but moving.
  await rows('webhook:slowco', 4, { status: 'pending', ageSeconds: 120, attempts: 1 });
  await rows('webhook:slowco', 1, { status: 'delivered', ageSeconds: 100, finishedAgoSeconds: 30 });
  await t.pool.query(`analyze "${t.schema}".messages`);
  await t.pool.query(`analyze "${t.schema}".messages_archive`);
}

const serve = (adminToken?: string) => serveTestDatabase(t, adminToken ? { adminToken } : {});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('status routes with ADMIN_TOKEN', () => {
  let server: RunningHttpServer;
  let base: string;
  beforeAll(async () => {
    ({ server, base } = await serve(ADMIN_TOKEN));
  });
  afterAll(() => server.close());
  beforeEach(seed);

  it('answers 401 on every JSON route without the token or with a wrong one, and shows nothing', async () => {
    for (const route of JSON_ROUTES) {
      for (const headers of [{}, bearer('wrong-token-wrong-token'), { authorization: ADMIN_TOKEN }]) {
        const res = await fetch(base + route, { headers });
        expect(res.status, `${route} ${JSON.stringify(headers)}`).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
        const text = await res.text();
        expect(text).not.toContain('tower-9');
        expect(text).not.toContain('acme');
      }
      expect((await fetch(base + route, { headers: bearer(ADMIN_TOKEN) })).status).toBe(200);
    }
  });

  it('serves the page shell without data, under a restrictive Content-Security-Policy', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(STATUS_PAGE_CSP);
    expect(STATUS_PAGE_CSP).toContain("script-src 'self'");
    expect(STATUS_PAGE_CSP).not.toContain('unsafe');
    const html = await page.text();
    expect(html).not.toContain('tower-9');
    expect(html).not.toMatch(/<script>|<style>| on[a-z]+=/);
    const script = await fetch(`${base}/status.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const js = await script.text();
    expect(js).not.toContain('innerHTML');
    const css = await (await fetch(`${base}/status.css`)).text();
    // The whole page, with script and style, stays small and loads nothing from elsewhere.
    expect(html.length + js.length + css.length).toBeLessThan(50 * 1024);
    expect(html + js + css).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  it('counts each destination against the database and names its state', async () => {
    const res = await fetch(`${base}/api/destinations`, { headers: bearer(ADMIN_TOKEN) });
    const body = (await res.json()) as { destinations: Array<Record<string, unknown>> };
    const by = Object.fromEntries(body.destinations.map((d) => [d.destination, d]));
    expect(body.destinations.map((d) => d.destination)).toEqual([
      'nats:orders',
      'routeros:tower-9',
      'webhook:broken',
      'webhook:slowco',
      'webhook:acme',
    ]);
    expect(by['routeros:tower-9']).toMatchObject({
      state: 'stuck',
      pending: 5,
      inFlight: 1,
      delivered5m: 0,
      delivered60m: 0,
      deadTotal: 0,
      sampleError: 'connect ECONNREFUSED 10.0.0.9:8728',
    });
    expect(by['routeros:tower-9']!.oldestWaitingSeconds).toBeGreaterThanOrEqual(3600);
    expect(by['nats:orders']).toMatchObject({ state: 'unserved', pending: 2, inFlight: 0 });
    expect(by['webhook:broken']).toMatchObject({
      state: 'failing',
      pending: 0,
      dead5m: 2,
      dead60m: 3,
      failed5m: 2,
      failed60m: 3,
      deadTotal: 4,
    });
    expect(by['webhook:slowco']).toMatchObject({ state: 'slow', pending: 4, delivered5m: 1 });
    expect(by['webhook:acme']).toMatchObject({
      state: 'flowing',
      pending: 1,
      delivered5m: 3,
      delivered60m: 7,
      deadTotal: 0,
    });
    expect(JSON.stringify(body)).not.toContain('payload-must-not-show');
  });

  it('gives per-minute deliveries and failures over the last hour', async () => {
    const res = await fetch(`${base}/api/throughput`, { headers: bearer(ADMIN_TOKEN) });
    const body = (await res.json()) as {
      minutes: Array<{ minute: string; delivered: number; failed: number }>;
    };
    expect(body.minutes.length).toBeGreaterThanOrEqual(60);
    expect(body.minutes.length).toBeLessThanOrEqual(61);
    const sum = (k: 'delivered' | 'failed') => body.minutes.reduce((n, m) => n + m[k], 0);
    expect(sum('delivered')).toBe(3 + 4 + 1);
    expect(sum('failed')).toBe(3);
    const times = body.minutes.map((m) => Date.parse(m.minute));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('keeps the counts right across refreshes while deliveries arrive', async () => {
    const read = async () => {
      const get = (route: string) =>
        fetch(base + route, { headers: bearer(ADMIN_TOKEN) }).then((r) => r.json());
      const throughput = (await get('/api/throughput')) as { minutes: Array<{ delivered: number }> };
      const { destinations } = (await get('/api/destinations')) as {
        destinations: Array<{ destination: string; delivered5m: number; delivered60m: number }>;
      };
      return {
        hour: throughput.minutes.reduce((n, m) => n + m.delivered, 0),
        acme: destinations.find((d) => d.destination === 'webhook:acme'),
      };
    };
    expect(await read()).toMatchObject({ hour: 8, acme: { delivered5m: 3, delivered60m: 7 } });
    await rows('webhook:acme', 2, { status: 'delivered', ageSeconds: 1, finishedAgoSeconds: 0 });
    expect(await read()).toMatchObject({ hour: 10, acme: { delivered5m: 5, delivered60m: 9 } });
    expect(await read()).toMatchObject({ hour: 10, acme: { delivered5m: 5, delivered60m: 9 } });
  });

  it('groups dead letters by destination and reason with a sample and first/last seen', async () => {
    const res = await fetch(`${base}/api/dead/groups`, { headers: bearer(ADMIN_TOKEN) });
    const { groups } = (await res.json()) as { groups: Array<Record<string, any>> };
    expect(groups.map((g) => [g.destination, g.reason, g.count])).toEqual([
      ['webhook:broken', 'permanent', 2],
      ['webhook:broken', 'max_attempts', 1],
      ['webhook:broken', 'unknown', 1],
    ]);
    expect(groups[0]).toMatchObject({ sampleType: 'status.test', sampleError: 'HTTP 410 from endpoint' });
    expect(groups[0]!.sampleMessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(groups[1]!.lastSeen) - Date.parse(groups[1]!.firstSeen)).toBe(0);
    expect(JSON.stringify(groups)).not.toContain('payload-must-not-show');
  });

  it('reports health: database, schema version, relays holding leases, actions on', async () => {
    const res = await fetch(`${base}/api/status`, { headers: bearer(ADMIN_TOKEN) });
    const body = (await res.json()) as Record<string, any>;
    expect(body.database).toEqual({
      reachable: true,
      schemaVersion: LATEST_MIGRATION_VERSION,
      expectedSchemaVersion: LATEST_MIGRATION_VERSION,
    });
    expect(body.relay.seen).toEqual([
      expect.objectContaining({ workerId: 'relay-a', source: 'lease', count: 1 }),
    ]);
    expect(body.jobs.scheduler).toBe('off');
    expect(body.actions).toBe(true);
  });

  it('replays and purges one dead group through the admin routes, and only that group', async () => {
    const post = (path: string, body: unknown, token = ADMIN_TOKEN) =>
      fetch(base + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(token) },
        body: JSON.stringify(body),
      });
    const group = { destination: 'webhook:broken', reason: 'permanent' };
    expect((await post('/api/admin/dead/replay', group, 'wrong-token-wrong-token')).status).toBe(401);
    expect((await post('/api/admin/dead/purge', group, 'wrong-token-wrong-token')).status).toBe(401);
    expect((await post('/api/admin/dead/replay', { reason: 'permanent' })).status).toBe(400);
    expect(
      (await post('/api/admin/dead/replay', { destination: 'webhook:broken', reason: 'nope' })).status,
    ).toBe(400);
    const replay = await post('/api/admin/dead/replay', group);
    expect(await replay.json()).toEqual({ replayed: 2 });
    const count = async (where: string) =>
      (await t.pool.query(`select count(*)::int as n from "${t.schema}".all_messages where ${where}`)).rows[0]
        .n;
    expect(await count(`destination = 'webhook:broken' and status = 'pending'`)).toBe(2);
    expect(await count(`destination = 'webhook:broken' and status = 'dead'`)).toBe(2);
    const purge = await post('/api/admin/dead/purge', { destination: 'webhook:broken', reason: 'unknown' });
    expect(await purge.json()).toEqual({ purged: 1 });
    expect(await count(`destination = 'webhook:broken' and status = 'dead'`)).toBe(1);
    expect(await count(`destination = 'webhook:broken' and dead_reason = 'max_attempts'`)).toBe(1);
    // The filter form of purge works too.
    const all = await post('/api/admin/dead/purge', { destination: 'webhook:broken' });
    expect(await all.json()).toEqual({ purged: 1 });
  });
});

describe('status routes without ADMIN_TOKEN', () => {
  let server: RunningHttpServer;
  let base: string;
  beforeAll(async () => {
    ({ server, base } = await serve());
    await seed();
  });
  afterAll(() => server.close());

  it('are readable without a token, with actions off and the admin routes closed', async () => {
    for (const route of JSON_ROUTES) expect((await fetch(base + route)).status).toBe(200);
    const status = (await (await fetch(`${base}/api/status`)).json()) as { actions: boolean };
    expect(status.actions).toBe(false);
    const replay = await fetch(`${base}/api/admin/dead/replay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ destination: 'webhook:broken', reason: 'permanent' }),
    });
    expect(replay.status).toBe(404);
  });
});

describe('the destinations report', () => {
  it('counts each message once, from one snapshot, when it dies between two of the report statements', async () => {
    await t.pool.query(`truncate "${t.schema}".messages, "${t.schema}".messages_archive`);
    await rows('webhook:race', 1, { status: 'in_flight', ageSeconds: 5, attempts: 3, lockedBy: 'relay-1' });
    // One connection for the report. Right after it has counted the open rows, the message dies
    // on another connection, as the relay's write-back would; any other read of the report that
    // is not part of the same snapshot waits until then, as it may in production.
    const client = await t.pool.connect();
    let died = false;
    let death!: () => void;
    const dead = new Promise<void>((resolve) => {
      death = resolve;
    });
    const opening = /^\s*(begin|commit|rollback|set transaction|select now\(\))/i;
    const db = {
      query: async (text: string, values?: unknown[]) => {
        const counting = text.includes(`filter (where status = 'in_flight')`);
        if (!died && !counting && !opening.test(text)) await dead;
        const result = await client.query(text, values);
        if (!died && counting) {
          await t.pool.query(
            `update "${t.schema}".messages set status = 'dead', dead_at = now(), dead_reason = 'max_attempts',
                    locked_by = null, locked_until = null where destination = 'webhook:race'`,
          );
          died = true;
          death();
        }
        return result;
      },
    };
    try {
      const report = await readDestinations({
        // A look-alike wrapper: the library takes any object with query(text, values).
        db: db as unknown as Queryable,
        schema: t.schema,
        failures: new FailureCounters(),
        delivered: new DeliveredMinutes(new StatusStore(t.schema)),
        actions: false,
      });
      expect(died).toBe(true);
      const line = report.destinations.find((d) => d.destination === 'webhook:race')!;
      // In flight as of the snapshot, and not yet dead in it: never both.
      expect({ inFlight: line.inFlight, dead60m: line.dead60m, deadTotal: line.deadTotal }).toEqual({
        inFlight: 1,
        dead60m: 0,
        deadTotal: 0,
      });
    } finally {
      client.release();
    }
  });
});
