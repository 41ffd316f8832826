/**
 * The shape of one benchmark scenario, and what `bench/run.ts` hands to each. A scenario is
 * registered once in `bench/scenarios/index.ts`; the runner, the table, the JSON and the
 * chart all derive from that entry.
 */
import type PgBoss from 'pg-boss';
import { median } from './support/stats.js';

/** The run sizes: `small` is `npm run bench` (~minutes), `full` is `--size full`. */
export const SIZE_NAMES = ['small', 'full'] as const;
export type SizeName = (typeof SIZE_NAMES)[number];

/** One line of the table. */
export interface Row {
  scenario: string;
  system: 'outbox-relay' | 'graphile-worker' | 'pg-boss' | 'reference';
  settings: string;
  value: number;
  unit: string;
  /** Throughputs: higher is better; latencies and times: lower. */
  higherIsBetter: boolean;
  detail?: string;
  /** Filled by the runner from the scenario's `ratio` rule (or given by the scenario itself). */
  ratio?: number;
  /** What `ratio` compares with, shown after it ("graphile-worker", "no backlog", ...). */
  ratioOf?: string;
}

/** Everything a scenario may use; competitors start lazily, so `--only` runs pay only for theirs. */
export interface BenchContext {
  readonly url: string;
  readonly sizeName: SizeName;
  /** A progress line on stderr (the table goes to stdout). */
  log(line: string): void;
  /** Adds a row to the table and prints it as progress. */
  add(row: Row): void;
  /** graphile-worker's schema, migrated on first use and shared by every scenario. */
  graphileSchema(): Promise<string>;
  /** A started pg-boss with its own schema, shared by every scenario, stopped at the end. */
  pgBoss(): Promise<{ boss: PgBoss; schema: string }>;
}

/**
 * One benchmark scenario. `S` is its own size settings (counts, repetitions, durations).
 *
 * @example
 * export const fooScenario = defineScenario({
 *   name: 'foo',
 *   summary: 'what it measures',
 *   sizes: { small: { messages: 1_000 }, full: { messages: 100_000 } },
 *   async run(ctx, size) { ctx.add({ scenario: `foo ${size.messages}`, ... }); },
 * });
 */
export interface BenchScenario<S = unknown> {
  /** What `--only` selects it by: lowercase, no spaces. */
  readonly name: string;
  /** One line for `--help` and the table's log. */
  readonly summary: string;
  readonly sizes: Readonly<Record<SizeName, S>>;
  /** Measures and calls `ctx.add` for each row; rows in one scenario share a `scenario` label. */
  run(ctx: BenchContext, size: S): Promise<void>;
  /**
   * How its rows get their ratio when the scenario did not set one: `graphile-worker`
   * (default: each row against graphile-worker's first row of the same label), or `none`.
   */
  readonly ratio?: 'graphile-worker' | 'none';
}

/** Types a scenario entry against its own sizes, and erases `S` for the registry. */
export function defineScenario<S>(scenario: BenchScenario<S>): BenchScenario {
  return scenario as BenchScenario;
}

/** Runs each system's thunk `reps` times, rotating which goes first, and returns the per-system medians. */
export async function alternate<K extends string>(
  reps: number,
  systems: Record<K, () => Promise<number>>,
): Promise<Record<K, { median: number; samples: number[] }>> {
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

/** A number as the table shows it: thousands separated, two decimals below 100. */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
}

/** "runs a / b / c" when there was more than one sample. */
export const samplesText = (s: number[]) =>
  s.length > 1 ? `runs ${s.map((x) => fmt(x)).join(' / ')}` : undefined;
