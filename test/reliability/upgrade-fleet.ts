/**
 * Relays and producers of any build of outbox-relay as real processes (test/support/upgrade-child.ts),
 * and what their files say: the upgrade tests' fleet. Each child appends to a file of its own:
 * a relay one line per publish, a producer one line per committed message.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { expect } from 'vitest';
import {
  Deliveries,
  Ledger,
  type ScenarioDatabase,
  type Verdict,
  verify,
  waitForDrained,
} from './harness.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** One running child and the file it writes. */
export interface Child {
  readonly proc: ChildProcess;
  readonly file: string;
  /** Its exit code: 0 after SIGTERM, 3 when a relay stopped on the schema fence, null when killed. */
  readonly exited: Promise<number | null>;
}

/** Every line of a child's file. */
export const lines = (file: string) => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);

/**
 * Starts children against one database and kills what is left at `close()`.
 *
 * @example
 * const fleet = new Fleet(url); const relay = fleet.child(oldDir, 'relay', schema);
 */
export class Fleet {
  private readonly children = new Set<ChildProcess>();
  private readonly tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'outbox-upgrade-'));
  private n = 0;

  constructor(private readonly url: string) {}

  /** A relay or producer of the build in `dir` (an older commit's tree, or this one: `ROOT`). */
  child(dir: string, role: 'relay' | 'producer', schema: string, env: Record<string, string> = {}): Child {
    const file = path.join(this.tmp, `${role}-${++this.n}.txt`);
    fs.writeFileSync(file, '');
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'test/support/upgrade-child.ts')],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          BUILD_DIR: dir,
          ROLE: role,
          DATABASE_URL: this.url,
          OUTBOX_SCHEMA: schema,
          OUT_FILE: file,
          ...env,
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    this.children.add(proc);
    const exited = new Promise<number | null>((resolve) =>
      proc.on('exit', (code) => {
        this.children.delete(proc);
        resolve(code);
      }),
    );
    return { proc, file, exited };
  }

  close(): void {
    for (const c of this.children) c.kill('SIGKILL');
  }
}

/** This checkout's root: the new release in `Fleet.child`. */
export const THIS_BUILD = ROOT;

/** Every relay's publishes merged in time order (each line: `<message_id> <epoch ms, fractional>`). */
export function deliveriesOf(relays: Child[]): Deliveries {
  const all = relays.flatMap((r) => lines(r.file).map((l) => l.split(' ') as [string, string]));
  all.sort((a, b) => Number(a[1]) - Number(b[1]));
  const d = new Deliveries();
  for (const [id] of all) d.record(id);
  return d;
}

/** Adds every producer's commits (`<message_id> <key> <seq>` lines) to `ledger`. */
export function addProducerCommits(ledger: Ledger, producers: Child[]): Ledger {
  for (const p of producers) {
    for (const line of lines(p.file)) {
      const [id, key, seq] = line.split(' ');
      ledger.committed.set(id!, { key: key === '-' ? null : `${p.file}:${key}`, seq: Number(seq) });
    }
  }
  return ledger;
}

/**
 * Adds `count` due messages of type `backlog` straight into `<schema>.messages` (a quarter
 * unkeyed, the rest over 40 keys), in a column set every layout since migration 1 has, then
 * analyzes the table.
 */
export async function addBacklog(pool: pg.Pool, schema: string, count: number): Promise<void> {
  await pool.query(
    `insert into "${schema}".messages (message_id, type, destination, ordering_key, payload)
     select gen_random_uuid(), 'backlog', 'default', case when i % 4 = 0 then null else 'b-k' || (i % 40) end, '{}'
       from generate_series(1, ${count}) i`,
  );
  await pool.query(`analyze "${schema}".messages`);
}

/** The backlog rows (keyed ones in id order per key) plus every producer's commits. */
export async function ledgerOf(pool: pg.Pool, schema: string, producers: Child[]): Promise<Ledger> {
  const ledger = new Ledger();
  const { rows } = await pool.query<{ message_id: string; ordering_key: string | null }>(
    `select message_id::text, ordering_key from "${schema}".all_messages where type = 'backlog' order by id`,
  );
  for (const r of rows)
    ledger.committed.set(r.message_id, { key: r.ordering_key, seq: ledger.nextSeq(r.ordering_key) });
  return addProducerCommits(ledger, producers);
}

/** How many messages `relays` published per second over `ms`, measured from their files. */
export async function rateOver(relays: Child[], ms: number): Promise<number> {
  const count = () => relays.reduce((sum, r) => sum + lines(r.file).length, 0);
  const before = count();
  const started = performance.now();
  await new Promise((r) => setTimeout(r, ms)); // a measuring window, not a wait for work
  return ((count() - before) * 1000) / (performance.now() - started);
}

/**
 * The end of every upgrade run: SIGTERM to the producers (each exits 0), a wait until the
 * `running` relays have drained the table, SIGTERM to them (each exits 0), then the verdict
 * over the backlog and the producers' commits against what every relay (`running`, and the
 * `stopped` ones before them) published.
 *
 * @example
 * const { verdict } = await finishUpgrade(db, { producers, running: newRelays, stopped: oldRelays }, 'rolling-upgrade');
 */
export async function finishUpgrade(
  db: ScenarioDatabase,
  fleet: { producers: Child[]; running: Child[]; stopped: Child[] },
  scenario: string,
): Promise<{ ledger: Ledger; deliveries: Deliveries; verdict: Verdict }> {
  for (const p of fleet.producers) p.proc.kill('SIGTERM');
  for (const p of fleet.producers) expect(await p.exited).toBe(0);
  await waitForDrained(db, `the relays to drain (${scenario})`, 60_000);
  for (const r of fleet.running) r.proc.kill('SIGTERM');
  for (const r of fleet.running) expect(await r.exited).toBe(0);
  const ledger = await ledgerOf(db.pool, db.schema, fleet.producers);
  const deliveries = deliveriesOf([...fleet.stopped, ...fleet.running]);
  const verdict = await verify(db, ledger, deliveries, { scenario, startedAt: 0 });
  return { ledger, deliveries, verdict };
}
