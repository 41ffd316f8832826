import { type Command, EXIT_OK } from '../command.js';
import { formatTable } from './format-table.js';
import { loadConfig, redactConfig } from '../config/load-config.js';
import { defaultText, formatValue } from '../config/setting.js';
import { SETTING_LIST } from '../config/settings.js';

/** `outbox-relay config`: the effective configuration, secrets redacted. */
export const configCommand: Command = {
  name: 'config',
  summary: 'validate and print the effective configuration (secrets redacted)',
  usage: [
    'Usage: outbox-relay config [--json]',
    '',
    'Reads every setting from its environment variable, lets flags override it, validates all',
    'of them (exit 2 listing every problem) and prints the result with where each value came from.',
    '',
    'Settings (environment variable, flag, default):',
    formatTable([
      ['variable', 'flag', 'default', 'meaning'],
      ...SETTING_LIST.map((s) => [
        [s.env, ...(s.aliases ?? [])].join(' or '),
        `--${s.flag}`,
        defaultText(s),
        s.description,
      ]),
    ]),
  ].join('\n'),
  flags: { json: { type: 'boolean', description: 'print one JSON object' } },
  async run(ctx) {
    const { config, sources, aliasesUsed } = loadConfig(ctx.env, ctx.flags, {
      isTty: ctx.stdout.isTTY === true,
    });
    const redacted = redactConfig(config);
    if (ctx.flags.json === true) {
      ctx.stdout.write(`${JSON.stringify({ config: redacted, sources, aliasesUsed })}\n`);
      return EXIT_OK;
    }
    const from = (env: string) =>
      aliasesUsed[env] ? `env (as ${aliasesUsed[env]})` : (sources[env] ?? 'default');
    const rows = SETTING_LIST.map((s) => [s.env, formatValue(redacted[s.key]), from(s.env)]);
    ctx.stdout.write(formatTable([['variable', 'value', 'from'], ...rows]));
    return EXIT_OK;
  },
};
