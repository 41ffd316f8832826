import { describe, expect, it } from 'vitest';
import { freshDatabases, runCli } from './cli-process.js';

describe.concurrent('maintenance commands', () => {
  const fresh = freshDatabases();

  it('dead replay moves dead rows back and they get delivered', async () => {
    const { t, env } = await fresh();
    expect(
      (await runCli(['publish', '--count', '5', '--type', 'e2e.dead', '--destination', 'nowhere'], env)).code,
    ).toBe(0);
    expect(
      (await runCli(['publish', '--count', '2', '--type', 'e2e.other', '--destination', 'nowhere'], env))
        .code,
    ).toBe(0);
    expect((await runCli(['run', '--drain'], env)).code).toBe(0);
    // No relay serves "nowhere": the rows wait; an operator gives up on them (as a relay with
    // deadLetterUnroutable would).
    await t.pool.query(
      `update "${t.schema}".messages set status = 'dead', dead_at = now(), dead_reason = 'unroutable',
              last_error = 'no publisher for destination "nowhere"'
        where status = 'pending' and destination = 'nowhere'`,
    );
    const list = await runCli(['dead', 'list', '--json', '--type', 'e2e.dead'], env);
    const dead = JSON.parse(list.stdout);
    expect(dead).toHaveLength(5);
    expect(dead[0].lastError).toContain('no publisher for destination "nowhere"');
    const show = await runCli(['dead', 'show', dead[0].messageId], env);
    expect(JSON.parse(show.stdout).status).toBe('dead');
    // The destination now has a publisher: route it to console, as an operator fixing config would.
    await t.pool.query(`update "${t.schema}".messages set destination = 'console' where type = 'e2e.dead'`);
    expect((await runCli(['dead', 'replay'], env)).code).toBe(2); // no filter, no --all
    const replay = await runCli(['dead', 'replay', '--type', 'e2e.dead'], env);
    expect(replay.stdout).toContain('replayed 5');
    expect((await runCli(['run', '--drain'], env)).code).toBe(0);
    const { rows } = await t.pool.query(
      `select type, status, count(*)::int as n from "${t.schema}".all_messages group by 1, 2 order by 1`,
    );
    expect(rows).toEqual([
      { type: 'e2e.dead', status: 'delivered', n: 5 },
      { type: 'e2e.other', status: 'dead', n: 2 },
    ]);
    expect((await runCli(['dead', 'purge', '--all'], env)).stdout).toContain('purged 2');
  }, 120_000); // nine CLI processes: over a minute on a loaded machine

  it('cleanup 30 deletes only delivered rows older than 30 days', async () => {
    const { t, env } = await fresh();
    expect((await runCli(['publish', '--count', '8', '--type', 'e2e.age'], env)).code).toBe(0);
    const s = `"${t.schema}".messages`;
    // Two old delivered, two recent delivered, old pending, old dead, old in-flight.
    await t.pool.query(
      `update ${s} set status = 'delivered', delivered_at = now() - interval '40 days' where id in (select id from ${s} order by id limit 2)`,
    );
    await t.pool.query(
      `update ${s} set status = 'delivered', delivered_at = now() - interval '29 days' where id in (select id from ${s} order by id offset 2 limit 2)`,
    );
    await t.pool.query(`update ${s} set created_at = now() - interval '90 days' where status = 'pending'`);
    await t.pool.query(
      `update ${s} set status = 'dead', dead_at = now() - interval '90 days' where id in (select id from ${s} where status = 'pending' order by id limit 1)`,
    );
    await t.pool.query(
      `update ${s} set status = 'in_flight', locked_by = 'x', locked_until = now() + interval '1 hour' where id in (select id from ${s} where status = 'pending' order by id limit 1)`,
    );
    const r = await runCli(['cleanup', '30'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('deleted 2 delivered messages and 0 logged attempts older than 30 days');
    // Read through the view: cleanup moved the rows delivered in place to the archive.
    const { rows } = await t.pool.query(
      `select status, count(*)::int as n from "${t.schema}".all_messages group by 1 order by 1`,
    );
    expect(rows).toEqual([
      { status: 'dead', n: 1 },
      { status: 'delivered', n: 2 },
      { status: 'in_flight', n: 1 },
      { status: 'pending', n: 2 },
    ]);
    expect((await runCli(['cleanup', 'soon'], env)).code).toBe(2);
  });

  it('demo exits 0 and its summary counts match the database', async () => {
    const { t, env } = await fresh();
    const schema = `${t.schema}_demo`;
    const r = await runCli(['demo', '--json', '--orders', '80', '--schema', schema], {
      DATABASE_URL: env.DATABASE_URL,
    });
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    const q = async (where: string) =>
      (await t.pool.query(`select count(*)::int as n from "${schema}".all_messages where ${where}`)).rows[0]
        .n;
    try {
      expect(summary.ok).toBe(true);
      expect(summary.messagesCommitted).toBe(await q('true'));
      expect(summary.delivered).toBe(await q(`status = 'delivered'`));
      expect(summary.deliveredAfterRetry).toBe(await q(`status = 'delivered' and attempts > 1`));
      expect(summary.dead).toBe(await q(`status = 'dead'`));
      expect(summary.deadGaveUp).toBe(await q(`status = 'dead' and last_error like 'gave up after %'`));
      expect(await q(`status in ('pending', 'in_flight')`)).toBe(0);
      expect(summary.rolledBack).toBeGreaterThan(0);
      expect(summary.rolledBackFoundInDatabase).toBe(0);
      expect(summary.deliveredAfterRetry).toBeGreaterThan(0);
      expect(summary.dead).toBeGreaterThan(0);
      const orders = (await t.pool.query(`select count(*)::int as n from "${schema}".demo_orders`)).rows[0].n;
      expect(summary.ordersCommitted).toBe(orders);
      expect(orders).toBe(80 - summary.rolledBack); // each rolled-back order had one message
    } finally {
      await t.pool.query(`drop schema if exists "${schema}" cascade`);
    }
  });
});
