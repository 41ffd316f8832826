import { ConfigError } from '../../core/foundation/errors.js';
import { applyLibpqEnv } from './libpq-env.js';
import { crossSettingProblems } from './setting-checks.js';
import { ComputedDefault, type DefaultContext } from './setting.js';
import {
  type CliConfig,
  type KeyedSetting,
  REQUIREMENTS,
  SETTING_LIST,
  type SettingKey,
} from './settings.js';

/** Where a setting's effective value came from (shown by `outbox-relay config`). */
export type SettingSource = 'flag' | 'env' | 'default';

/** Flags as `parseArgs` gave them: strings for settings, booleans for boolean settings. */
export type FlagValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** A validated config and where each value came from, keyed by environment variable. */
export interface LoadedConfig {
  config: CliConfig;
  sources: Record<string, SettingSource>;
  /** Settings read from an alias (`HTTP_PORT: 'PORT'`): the variable that gave the value. */
  aliasesUsed: Record<string, string>;
}

/** What `loadConfig` needs besides env and flags. */
export interface LoadConfigOptions {
  /** The command talks to the database: DATABASE_URL must be set. */
  requireDatabase?: boolean;
  /** Whether output goes to a terminal (the `LOG_PRETTY` default). */
  isTty?: boolean;
}

/** One value per setting; the loop fills every key of `SETTINGS`, which makes the assertion true. */
function perSetting<V>(value: (s: KeyedSetting) => V): Record<SettingKey, V> {
  const out: Partial<Record<SettingKey, V>> = {};
  for (const s of SETTING_LIST) out[s.key] = value(s);
  return out as Record<SettingKey, V>;
}

/** A `CliConfig` from one value per setting, each produced by that setting's own parser or default. */
function configOf(value: (s: KeyedSetting) => unknown): CliConfig {
  return perSetting(value) as CliConfig;
}

function defaultValue(s: KeyedSetting, context: DefaultContext): unknown {
  return s.default instanceof ComputedDefault ? s.default.compute(context) : s.default;
}

/**
 * Every setting at its default.
 *
 * @example
 * defaults({ isTty: false }).batchSize // 500
 */
export function defaults(context: DefaultContext): CliConfig {
  return configOf((s) => defaultValue(s, context));
}

/** The text a setting was given as, and who gave it; undefined = not given. */
function givenText(
  s: KeyedSetting,
  env: Record<string, string | undefined>,
  flags: FlagValues,
): { raw: string; label: string; source: SettingSource; alias?: string } | undefined {
  const flagValue = flags[s.flag];
  if (flagValue !== undefined) {
    const last = Array.isArray(flagValue) ? flagValue.at(-1) : flagValue;
    return { raw: String(last), label: `--${s.flag}`, source: 'flag' };
  }
  if (s.parse.flagType === 'boolean' && flags[`no-${s.flag}`] === true) {
    return { raw: 'false', label: `--no-${s.flag}`, source: 'flag' };
  }
  // An empty variable counts as unset: `FOO= outbox-relay ...` is how shells clear one.
  // The canonical name first, then the aliases in order.
  for (const name of [s.env, ...(s.aliases ?? [])]) {
    const fromEnv = env[name];
    if (fromEnv !== undefined && fromEnv !== '')
      return { raw: fromEnv, label: name, source: 'env', ...(name === s.env ? {} : { alias: name }) };
  }
  return undefined;
}

/**
 * Reads every setting from env, lets flags override it, validates all of them and either
 * returns the config or throws one `ConfigError` listing every problem (each naming its
 * variable or flag). It never touches the database, so a bad config exits before any I/O.
 *
 * @example
 * const { config } = loadConfig(process.env, { 'batch-size': '500' }, { requireDatabase: true });
 */
export function loadConfig(
  env: Record<string, string | undefined>,
  flags: FlagValues = {},
  options: LoadConfigOptions = {},
): LoadedConfig {
  const context: DefaultContext = { isTty: options.isTty ?? false };
  const sources: Record<string, SettingSource> = {};
  const aliasesUsed: Record<string, string> = {};
  const problems: string[] = [];
  const config = configOf((s) => {
    const given = givenText(s, env, flags);
    sources[s.env] = given?.source ?? 'default';
    if (given?.alias) aliasesUsed[s.env] = given.alias;
    if (!given) return defaultValue(s, context);
    const shown = s.redact ? '[redacted]' : JSON.stringify(given.raw);
    const parsed = s.parse.parse({ raw: given.raw, label: given.label, shown });
    if (parsed.ok) return parsed.value;
    problems.push(parsed.problem);
    return defaultValue(s, context);
  });
  applyLibpqEnv(config, sources, aliasesUsed);
  // A setting given but invalid already has its problem; a requirement is about a missing one.
  for (const r of REQUIREMENTS) {
    const s = SETTING_LIST.find((x) => x.key === r.key);
    if (s && sources[s.env] === 'default' && r.when(config, options)) {
      problems.push(`${s.env} is required ${r.because}`);
    }
  }
  problems.push(...crossSettingProblems(config));
  if (problems.length > 0) throw new ConfigError(problems);
  return { config, sources, aliasesUsed };
}

/**
 * The config as it may be printed or logged: secrets replaced by `[redacted]`, the
 * database password by `***`.
 *
 * @example
 * console.log(JSON.stringify(redactConfig(config), null, 2));
 */
export function redactConfig(config: CliConfig): Record<SettingKey, unknown> {
  return perSetting((s) => {
    const value = config[s.key];
    return s.redact && value !== undefined ? s.redact(value) : value;
  });
}

/**
 * parseArgs option specs for every setting flag (and `--no-<flag>` for booleans).
 *
 * @example
 * parseArgs({ args, options: { ...settingFlagSpecs(), help: { type: 'boolean' } } });
 */
export function settingFlagSpecs(): Record<string, { type: 'string' | 'boolean' }> {
  const specs: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const s of SETTING_LIST) {
    // Booleans take `--flag`; false is spelled `--no-flag`.
    specs[s.flag] = { type: s.parse.flagType };
    if (s.parse.flagType === 'boolean') specs[`no-${s.flag}`] = { type: 'boolean' };
  }
  return specs;
}
