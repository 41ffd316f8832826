import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from '../../support/recording-publisher.js';
import { childPublished, spawnRelayChild } from '../../support/spawn-relay-child.js';
import {
  Deliveries,
  Ledger,
  runProducers,
  type ScenarioDatabase,
  seededRandom,
  type Verdict,
  verify,
  waitForDrained,
} from '../harness.js';

/** What one relay child holds at most: two claimed batches of 50 (test/support/relay-child.ts). */
export const CHILD_MAX_HELD = 100;

/** Sizes of the crash scenario. */
export interface CrashSizes {
  readonly relays: number;
  readonly producers: number;
  readonly messagesPerProducer: number;
  readonly kills: number;
  readonly seed?: number;
}

function startChild(t: ScenarioDatabase, outFile: string): ChildProcess {
  return spawnRelayChild({
    url: t.url,
    schema: t.schema,
    outFile,
    env: { PUBLISH_DELAY_MS: '4', AFTER_PUBLISH_MS: '15' },
  });
}

/**
 * Relays run as child processes (each publish is appended to a shared file before it
 * returns); while producers write, a random child is SIGKILLed right after the file grows
 * (so mostly between a publish and its mark-delivered) and replaced. The survivors and the
 * replacements must finish everything.
 */
export async function crashScenario(
  t: ScenarioDatabase,
  sizes: CrashSizes,
): Promise<Verdict & { kills: number; killedHolding: number }> {
  const startedAt = Date.now();
  const random = seededRandom(sizes.seed ?? 11);
  const outFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'reliability-crash-')), 'out.txt');
  const children = Array.from({ length: sizes.relays }, () => startChild(t, outFile));
  const ledger = new Ledger();
  let producing = true;
  const producers = runProducers(t, ledger, {
    producers: sizes.producers,
    messagesPerProducer: sizes.messagesPerProducer,
    rollbackRatio: 0.1,
    seed: sizes.seed ?? 11,
  }).finally(() => {
    producing = false;
  });
  let kills = 0;
  let killedHolding = 0;
  try {
    while (kills < sizes.kills) {
      const i = Math.floor(random() * children.length);
      const size = fs.existsSync(outFile) ? fs.statSync(outFile).size : 0;
      // Kill the moment the shared file grows: some child has just published and not yet marked.
      await waitFor(
        () => (fs.existsSync(outFile) ? fs.statSync(outFile).size : 0) > size,
        'a publish to kill after',
        30_000,
      );
      const victim = children[i]!;
      const exited = new Promise((r) => victim.once('exit', r));
      victim.kill('SIGKILL');
      await exited;
      kills++;
      const held = await t.pool.query<{ n: number }>(
        `select count(*)::int as n from "${t.schema}".messages where status = 'in_flight'`,
      );
      if (held.rows[0]!.n > 0) killedHolding++;
      children[i] = startChild(t, outFile);
      // Let the newcomer and the others work a little before the next kill.
      const grown = fs.statSync(outFile).size;
      await waitFor(() => fs.statSync(outFile).size > grown + 200 * (1 + random()), 'more publishes', 30_000);
    }
    await producers;
    await waitForDrained(
      t,
      'the relays to finish every committed message',
      60_000 + 10 * ledger.committed.size,
      {
        alsoDone: () => !producing,
        context: () =>
          `${children.filter((c) => c.exitCode === null && c.signalCode === null).length}/${children.length} relays alive`,
      },
    );
  } finally {
    await Promise.all(
      children.map((c) =>
        c.exitCode === null && c.signalCode === null
          ? new Promise((r) => {
              c.once('exit', r);
              c.kill('SIGTERM');
            })
          : undefined,
      ),
    );
  }
  const deliveries = new Deliveries();
  for (const id of childPublished(outFile)) deliveries.record(id);
  fs.rmSync(path.dirname(outFile), { recursive: true, force: true });
  const verdict = await verify(t, ledger, deliveries, { scenario: '1 crash (SIGKILL relays)', startedAt });
  return { ...verdict, kills, killedHolding };
}
