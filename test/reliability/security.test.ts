import { randomBytes } from 'node:crypto';
import type { LookupFunction } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentPublishError } from '../../src/core/foundation/errors.js';
import { createOutbox } from '../../src/core/producer/outbox.js';
import { CredentialsCipher } from '../../src/publishers/routeros/index.js';
import { WebhookPublisher } from '../../src/publishers/webhook/index.js';
import { type FakeRouter, startFakeRouter } from '../../src/testing/fake-router/index.js';
import { runCli, spawnCli } from '../e2e/cli-process.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { makeTestMessage, testContext } from '../support/publisher-contract.js';
import { waitFor } from '../support/recording-publisher.js';
import { reply, startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { statusCounts } from './harness.js';

const SECRET_BYTES = 'reliability-webhook-secret-bytes!';
const WEBHOOK_SECRET = `whsec_${Buffer.from(SECRET_BYTES).toString('base64')}`;
const DEVICE_PASSWORD = 'Tower-Api-Pa55word-Xq9';
const WRONG_DEVICE_PASSWORD = 'Wrong-Pa55word-Zk7-not-it';
const ADMIN_TOKEN = 'reliability-admin-token-7f3a9c';
const CREDENTIALS_KEY = randomBytes(32).toString('base64');
const OTHER_KEY = randomBytes(32).toString('base64');

/** Every secret, and the forms it could leak in (base64 body, hex key). */
const SECRETS = [
  WEBHOOK_SECRET,
  Buffer.from(SECRET_BYTES).toString('base64'),
  SECRET_BYTES,
  DEVICE_PASSWORD,
  WRONG_DEVICE_PASSWORD,
  ADMIN_TOKEN,
  CREDENTIALS_KEY,
  Buffer.from(CREDENTIALS_KEY, 'base64').toString('hex'),
];

function leaks(text: string): string[] {
  return SECRETS.filter((s) => text.includes(s));
}

let t: TestDatabase;
let router: FakeRouter;
let receiver: WebhookReceiver;
beforeAll(async () => {
  t = await createTestDatabase();
  router = await startFakeRouter({ users: { api: DEVICE_PASSWORD }, profiles: ['10M'] });
  receiver = await startWebhookReceiver({ secrets: [WEBHOOK_SECRET] });
});
afterAll(async () => {
  await receiver.close();
  await router.close();
  await t.close();
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: t.url,
    OUTBOX_SCHEMA: t.schema,
    OUTBOX_PUBLISHER_TYPE: 'webhook,routeros',
    OUTBOX_WEBHOOK_URL: `${receiver.url}/hooks`,
    OUTBOX_WEBHOOK_SECRET: WEBHOOK_SECRET,
    OUTBOX_WEBHOOK_ALLOW_PRIVATE: 'true',
    OUTBOX_CREDENTIALS_KEY: CREDENTIALS_KEY,
    ADMIN_TOKEN,
    LOG_LEVEL: 'debug',
    ...extra,
  };
}

describe('secrets', () => {
  it('never shows webhook secrets, device passwords, the admin token or the key in logs, errors, stats, /metrics or config', async () => {
    const captured: string[] = [];
    const cli = async (args: string[], extra: Record<string, string> = {}) => {
      const r = await runCli(args, env(extra));
      // Only the command name as header: the arguments carry the password on purpose.
      captured.push(`$ ${args.slice(0, 2).join(' ')}\n${r.stdout}\n${r.stderr}`);
      return r;
    };
    for (const [name, password] of [
      ['tower-3', DEVICE_PASSWORD],
      ['tower-bad', WRONG_DEVICE_PASSWORD],
    ] as const) {
      const add = await cli([
        'devices',
        'add',
        '--name',
        name,
        '--host',
        router.host,
        '--port',
        String(router.port),
        '--username',
        'api',
        '--password',
        password,
      ]);
      expect(add.code, add.stderr).toBe(0);
    }
    const outbox = createOutbox({ schema: t.schema });
    await outbox.addCommand(t.db, {
      device: 'tower-3',
      action: 'pppoe.create',
      params: { name: 'alice', password: 'pppoe-pw', profile: '10M' },
    });
    // Login fails with a wrong password: the error path must not quote it either.
    await outbox.addCommand(t.db, {
      device: 'tower-bad',
      action: 'pppoe.create',
      params: { name: 'bob', password: 'pppoe-pw', profile: '10M' },
      maxAttempts: 1,
    });
    // The receiver fails first (error path with its body quoted), then accepts.
    receiver.respond((_, n) => (n < 3 ? reply.status(500, 'upstream exploded') : reply.ok()));
    await outbox.addMany(
      t.db,
      Array.from({ length: 5 }, (_, i) => ({ type: 'secret.test', destination: 'webhook', payload: { i } })),
    );

    const start = spawnCli(['start'], env({ HTTP_PORT: '0', HTTP_HOST: '127.0.0.1', LEASE_MS: '2000' }));
    try {
      const { port } = await start.waitForLog(
        (l) => l.msg === 'HTTP endpoint listening',
        'the HTTP endpoint',
      );
      const base = `http://127.0.0.1:${port}`;
      await waitFor(async () => (await statusCounts(t)).delivered >= 6, 'webhooks and the device command');
      await waitFor(async () => (await statusCounts(t)).dead >= 1, 'the wrong-password command to die');
      for (const path of ['/metrics', '/healthz', '/readyz', '/api/jobs/status']) {
        const r = await fetch(`${base}${path}`);
        captured.push(`GET ${path} ${r.status}\n${await r.text()}`);
      }
      const admin = (auth?: string) =>
        fetch(`${base}/api/admin/dead/replay`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
          body: JSON.stringify({ all: true }),
        });
      for (const auth of [
        undefined,
        'Bearer wrong-token-wrong-token',
        `Bearer ${ADMIN_TOKEN}x`,
        `Bearer ${ADMIN_TOKEN.slice(0, -1)}`,
        `Basic ${ADMIN_TOKEN}`,
        ADMIN_TOKEN,
      ]) {
        const r = await admin(auth);
        captured.push(`POST admin ${r.status} ${await r.text()}`);
        expect(r.status, String(auth)).toBe(401);
      }
      const jobs = await fetch(`${base}/api/admin/jobs/run/cleanup`, { method: 'POST' });
      expect(jobs.status).toBe(401);
    } finally {
      start.child.kill('SIGTERM');
      expect(await start.exited, `${start.stdout()}\n${start.stderr()}`).toBe(0);
      captured.push(`$ start\n${start.stdout()}\n${start.stderr()}`);
    }
    expect(router.state.rows('/ppp/secret')).toEqual([expect.objectContaining({ name: 'alice' })]);
    for (const args of [
      ['stats'],
      ['stats', '--json'],
      ['config'],
      ['config', '--json'],
      ['dead', 'list'],
      ['devices', 'list', '--json'],
    ]) {
      const r = await cli(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    const { rows } = await t.pool.query(`select * from "${t.schema}".all_messages`);
    const { rows: devices } = await t.pool.query(`select * from "${t.schema}".devices`);
    captured.push(JSON.stringify(rows), JSON.stringify(devices));
    const all = captured.join('\n');
    // The capture really holds the error paths we meant to look at.
    expect(all).toMatch(/upstream exploded/);
    expect(all).toMatch(/tower-bad/);
    const where = captured
      .filter((c) => leaks(c).length > 0)
      .map((c) => {
        const at = Math.max(...leaks(c).map((s) => c.indexOf(s)));
        return `${c.split('\n')[0]} ... ${c.slice(Math.max(0, at - 300), at + 80)}`;
      });
    expect(where).toEqual([]);
  });
});

describe('SSRF', () => {
  it('refuses private, loopback, link-local and rebinding targets before any request leaves', async () => {
    const before = receiver.requests.length;
    const targets: Array<{ url: string; lookup?: LookupFunction }> = [
      { url: `http://127.0.0.1:${receiver.port}/` },
      { url: `http://localhost:${receiver.port}/` },
      { url: `http://[::1]:${receiver.port}/` },
      { url: 'http://169.254.169.254/latest/meta-data/' },
      { url: 'http://10.0.0.1/' },
      { url: `http://0.0.0.0:${receiver.port}/` },
      { url: `http://2130706433:${receiver.port}/` },
      {
        // A public-looking name that resolves to loopback (DNS rebinding).
        url: `http://hooks.example.test:${receiver.port}/`,
        lookup: (_host: string, options: any, cb: any) =>
          options?.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4),
      },
    ];
    for (const target of targets) {
      const publisher = new WebhookPublisher({
        url: target.url,
        secrets: WEBHOOK_SECRET,
        timeoutMs: 2000,
        ...(target.lookup ? { lookup: target.lookup } : {}),
      });
      try {
        const context = testContext();
        const error = await publisher.publish(makeTestMessage(), context).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error, target.url).toBeInstanceOf(PermanentPublishError);
        expect(String((error as Error).message), target.url).toMatch(
          /SSRF|private|loopback|link-local|reserved|refus/i,
        );
        expect(leaks(`${(error as Error).message}\n${JSON.stringify(context.logger.lines)}`)).toEqual([]);
      } finally {
        await publisher.close();
      }
    }
    expect(receiver.requests.length).toBe(before);
  });

  it('refuses a loopback webhook URL in the binary at start (exit 2) unless private networks are allowed: nothing is sent, nothing dies', async () => {
    const s = await createTestDatabase();
    try {
      const id = await createOutbox({ schema: s.schema }).add(s.db, {
        type: 'ssrf',
        destination: 'webhook',
        payload: {},
      });
      const before = receiver.requests.length;
      const r = await runCli(['run', '--drain'], {
        DATABASE_URL: s.url,
        OUTBOX_SCHEMA: s.schema,
        OUTBOX_PUBLISHER_TYPE: 'webhook',
        OUTBOX_WEBHOOK_URL: receiver.url,
        OUTBOX_WEBHOOK_SECRET: WEBHOOK_SECRET,
      });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(
        /OUTBOX_WEBHOOK_URL .*loopback address; set OUTBOX_WEBHOOK_ALLOW_PRIVATE=true/,
      );
      const { rows } = await s.pool.query(
        `select status, attempts from "${s.schema}".messages where message_id = $1`,
        [id],
      );
      expect(rows[0]).toMatchObject({ status: 'pending', attempts: 0 });
      expect(receiver.requests.length).toBe(before);
    } finally {
      await s.close();
    }
  });
});

describe('schema name injection', () => {
  it('rejects OUTBOX_SCHEMA with SQL in it with exit 2 for every command, and nothing is dropped', async () => {
    await t.pool.query(`create table "${t.schema}".sentinel (x int)`);
    const hostile = [
      `x; drop table "${t.schema}".sentinel`,
      `outbox"; drop table "${t.schema}".sentinel; --`,
    ];
    const commands = [
      ['migrate'],
      ['start'],
      ['stats'],
      ['cleanup'],
      ['run', '--drain'],
      ['dead', 'purge', '--all'],
    ];
    const runs = hostile.flatMap((schema) =>
      commands.map(async (args) => ({
        what: `${args.join(' ')} with ${JSON.stringify(schema)}`,
        r: await runCli(args, { DATABASE_URL: t.url, OUTBOX_SCHEMA: schema }),
      })),
    );
    for (const { what, r } of await Promise.all(runs)) {
      expect(r.code, `${what}: ${r.stderr}`).toBe(2);
      expect(r.stderr, what).toContain('OUTBOX_SCHEMA must be a lower-case SQL identifier');
    }
    const { rows } = await t.pool.query(`select to_regclass($1) as t`, [`"${t.schema}".sentinel`]);
    expect(rows[0].t).not.toBeNull();
  });
});

describe('credentials key', () => {
  it('fails clearly with a wrong key, delivers nothing, and the stored password cannot be read without the key', async () => {
    const s = await createTestDatabase();
    try {
      const add = await runCli(
        [
          'devices',
          'add',
          '--name',
          'tower-k',
          '--host',
          router.host,
          '--port',
          String(router.port),
          '--username',
          'api',
          '--password',
          DEVICE_PASSWORD,
        ],
        { DATABASE_URL: s.url, OUTBOX_SCHEMA: s.schema, OUTBOX_CREDENTIALS_KEY: CREDENTIALS_KEY },
      );
      expect(add.code, add.stderr).toBe(0);
      await createOutbox({ schema: s.schema }).addCommand(s.db, {
        device: 'tower-k',
        action: 'pppoe.create',
        params: { name: 'carol', password: 'x', profile: '10M' },
        maxAttempts: 1,
      });
      const rowsBefore = router.state.rows('/ppp/secret').length;
      const r = await runCli(['run', '--drain'], {
        DATABASE_URL: s.url,
        OUTBOX_SCHEMA: s.schema,
        OUTBOX_PUBLISHER_TYPE: 'routeros',
        OUTBOX_CREDENTIALS_KEY: OTHER_KEY,
      });
      const out = `${r.stdout}\n${r.stderr}`;
      const { rows } = await s.pool.query(`select status, last_error from "${s.schema}".all_messages`);
      expect(rows[0].status).not.toBe('delivered');
      const said = `${out}\n${rows[0].last_error}`;
      expect(said).toMatch(/encrypted with key id \w+, but the configured credentials key has id \w+/);
      expect(said).toContain('OUTBOX_CREDENTIALS_KEY');
      expect(router.state.rows('/ppp/secret').length).toBe(rowsBefore);
      expect(leaks(said)).toEqual([]);

      const { rows: devices } = await s.pool.query(`select password_encrypted from "${s.schema}".devices`);
      const stored = devices[0].password_encrypted as string;
      expect(stored).not.toContain(DEVICE_PASSWORD);
      expect(Buffer.from(stored.split(':').pop()!, 'base64').toString('utf8')).not.toContain(DEVICE_PASSWORD);
      expect(() => new CredentialsCipher({ key: OTHER_KEY }).decrypt(stored, 'tower-k')).toThrow(/key id/);
      // Even the right key refuses it on another device row (bound to the name).
      expect(() => new CredentialsCipher({ key: CREDENTIALS_KEY }).decrypt(stored, 'tower-x')).toThrow();
      expect(new CredentialsCipher({ key: CREDENTIALS_KEY }).decrypt(stored, 'tower-k')).toBe(
        DEVICE_PASSWORD,
      );
    } finally {
      await s.close();
    }
  });
});
