#!/usr/bin/env node
import { ConfigError, describeError } from '../core/foundation/errors.js';
import {
  type Command,
  commandHelp,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  parseCommandArgs,
  UsageError,
} from './command.js';
import { COMMANDS } from './commands/index.js';

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'outbox-relay: relay a PostgreSQL transactional outbox to webhooks, RouterOS devices or the console.',
    '',
    'Usage: outbox-relay <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width + 2)}${c.summary}`),
    '',
    'Run `outbox-relay <command> --help` for a command’s options, `outbox-relay config --help` for',
    'every environment variable. Exit codes: 0 ok, 1 failure, 2 usage or config error.',
    '',
  ].join('\n');
}

/**
 * Runs the binary with `argv` (without node and the script) and resolves with the exit code.
 * Commands report problems by throwing: `UsageError`/`ConfigError` mean exit 2, anything else 1.
 *
 * @example
 * process.exitCode = await main(process.argv.slice(2));
 */
export async function main(
  argv: readonly string[],
  env: Record<string, string | undefined> = process.env,
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    process.stdout.write(topic ? commandHelp(topic) : mainHelp());
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === '--version' || name === '-v') {
    const { createRequire } = await import('node:module');
    const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return EXIT_OK;
  }
  const command: Command | undefined = COMMANDS.find((c) => c.name === name);
  try {
    if (!command) throw new UsageError(`unknown command "${name}"`, mainHelp());
    const { positionals, flags } = parseCommandArgs(command, rest);
    if (flags.help === true) {
      process.stdout.write(commandHelp(command));
      return EXIT_OK;
    }
    return await command.run({
      args: positionals,
      flags,
      env,
      stdout: process.stdout,
      stderr: process.stderr,
    });
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`outbox-relay: ${error.message}\n${error.usage ? `\n${error.usage}` : ''}`);
      return EXIT_USAGE;
    }
    if (error instanceof ConfigError) {
      process.stderr.write(
        `outbox-relay: invalid configuration:\n${error.problems.map((p) => `  - ${p}`).join('\n')}\n`,
      );
      return EXIT_USAGE;
    }
    process.stderr.write(`outbox-relay ${name}: ${describeError(error)}\n`);
    if (env.LOG_LEVEL === 'debug' || env.LOG_LEVEL === 'trace')
      process.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
    return EXIT_FAILURE;
  }
}

// Run only as the entry point, so tests and the library can import `main` without side effects.
const entry = process.argv[1] ?? '';
if (/[\\/]main\.(ts|js)$/.test(entry) || entry.endsWith('outbox-relay')) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`outbox-relay: ${describeError(error)}\n`);
      process.exitCode = EXIT_FAILURE;
    },
  );
}
