import { OutboxError } from '../core/foundation/errors.js';
import { parseArgs } from 'node:util';
import { type FlagValues, settingFlagSpecs } from './config/load-config.js';
import { integer } from './config/setting-parsers.js';
import { SETTINGS } from './config/settings.js';

/** Exit codes of the binary. */
export const EXIT_OK = 0;
/** Something failed at run time (database down, a job failed...). */
export const EXIT_FAILURE = 1;
/** The command line or the config is wrong; nothing was done. */
export const EXIT_USAGE = 2;

/**
 * The command line is wrong (unknown command, missing argument, bad flag): exit 2.
 *
 * @example
 * throw new UsageError('dead show needs an id', 'outbox-relay dead show <id>');
 */
export class UsageError extends OutboxError {
  readonly usage: string | undefined;
  constructor(message: string, usage?: string) {
    super('USAGE', message);
    this.usage = usage;
  }
}

/** What a command gets: its arguments, the environment and where to write. */
export interface CommandContext {
  /** Positionals after the command name (and subcommand, for grouped commands). */
  readonly args: readonly string[];
  readonly flags: FlagValues;
  readonly env: Record<string, string | undefined>;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
}

/** Own flags of a command, beyond the config settings every command accepts. */
export type FlagSpecs = Record<
  string,
  { type: 'string' | 'boolean'; short?: string; multiple?: boolean; description: string }
>;

/** One `outbox-relay <name>` command. */
export interface Command {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Usage line(s) and details for `--help`. */
  readonly usage: string;
  readonly flags?: FlagSpecs;
  /** Resolves with the exit code. */
  run(context: CommandContext): Promise<number>;
}

/**
 * Parses a command's argv: its own flags plus every setting flag. Unknown flags are a
 * usage error (exit 2), never silently ignored.
 *
 * @example
 * const { positionals, flags } = parseCommandArgs(command, ['--json']);
 */
export function parseCommandArgs(
  command: Command,
  argv: readonly string[],
): { positionals: string[]; flags: FlagValues } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    ...settingFlagSpecs(),
    help: { type: 'boolean', short: 'h' },
  };
  for (const [name, spec] of Object.entries(command.flags ?? {})) {
    options[name] = {
      type: spec.type,
      ...(spec.short ? { short: spec.short } : {}),
      ...(spec.multiple ? { multiple: true } : {}),
    };
  }
  try {
    const parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
    return { positionals: parsed.positionals, flags: parsed.values as FlagValues };
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0] ?? String(error), commandHelp(command));
  }
}

/**
 * The `--help` text of a command.
 *
 * @example
 * process.stdout.write(commandHelp(statsCommand));
 */
export function commandHelp(command: Command): string {
  const lines = [`outbox-relay ${command.name}: ${command.summary}`, '', command.usage.trimEnd(), ''];
  const own = Object.entries(command.flags ?? {});
  if (own.length > 0) {
    lines.push('Options:');
    const width = Math.max(...own.map(([n, s]) => n.length + (s.type === 'string' ? 8 : 0)));
    for (const [name, spec] of own) {
      const left = `--${name}${spec.type === 'string' ? ' <value>' : ''}`;
      lines.push(`  ${left.padEnd(width + 4)}${spec.description}`);
    }
    lines.push('');
  }
  lines.push('Every setting can also be given as a flag that overrides its environment variable,');
  lines.push(
    `e.g. --${SETTINGS.databaseUrl.flag} (${SETTINGS.databaseUrl.env}), --${SETTINGS.batchSize.flag} (${SETTINGS.batchSize.env}). See \`outbox-relay config --help\`.`,
  );
  lines.push('Exit codes: 0 ok, 1 failure, 2 usage or config error.', '');
  return lines.join('\n');
}

/**
 * A command's own integer flag (`--count`, `--orders`), by the same rule as integer settings;
 * `fallback` when it is not given. A bad value is a usage error (exit 2).
 *
 * @example
 * const count = integerFlag(ctx.flags, 'count', { min: 1, max: 100_000, fallback: 1 });
 */
export function integerFlag(
  flags: FlagValues,
  name: string,
  options: { min: number; max: number; fallback: number },
): number {
  const raw = flags[name];
  if (raw === undefined) return options.fallback;
  const text = String(Array.isArray(raw) ? raw.at(-1) : raw);
  const parsed = integer(options).parse({
    raw: text,
    label: `--${name}`,
    shown: JSON.stringify(text),
  });
  if (!parsed.ok) throw new UsageError(parsed.problem);
  return parsed.value;
}
