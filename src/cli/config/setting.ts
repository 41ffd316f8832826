// What one setting of the binary is; the table of them is settings.ts.
import type { SettingParser } from './setting-parsers.js';

/** What a computed default may depend on. */
export interface DefaultContext {
  /** Whether the command's output goes to a terminal. */
  readonly isTty: boolean;
}

/**
 * A default that depends on the machine or the terminal; `text` is what help and README show.
 *
 * @example
 * new ComputedDefault('when stdout is a TTY', (ctx) => ctx.isTty)
 */
export class ComputedDefault<T> {
  constructor(
    readonly text: string,
    readonly compute: (context: DefaultContext) => T,
  ) {}
}

/**
 * One setting of the binary: everything `--help`, `outbox-relay config`, the README table,
 * the defaults and the loader need, declared once.
 *
 * @example
 * batchSize: setting({ env: 'BATCH_SIZE', flag: 'batch-size', parse: integer({ min: 1, max: 10_000 }), default: 500, description: 'rows claimed per statement' })
 */
export interface Setting<T, D extends T | undefined = T | undefined> {
  /** The environment variable (the contract existing deployments use). */
  readonly env: string;
  /** The flag that overrides it, without `--`. */
  readonly flag: string;
  /**
   * Other variables read when `env` is unset, in order (another system's name for it, e.g.
   * seed 003's `PORT`); `env` wins when both are set and `config` shows which one was used.
   */
  readonly aliases?: readonly string[];
  /** Reads the text; a library rule is called here, never rewritten. */
  readonly parse: SettingParser<T>;
  /** The value when neither the flag nor the variable gives one (`undefined` = unset). */
  readonly default: D | ComputedDefault<D>;
  /** One line for help and README. */
  readonly description: string;
  /** Set for secrets: how the value is printed; parse problems then never echo the raw text. */
  redact?(value: T): unknown;
}

/**
 * Declares a setting; only here so TypeScript infers its value type from `parse` and `default`.
 *
 * @example
 * setting({ env: 'LEASE_MS', flag: 'lease-ms', parse: integer({ min: 1000, max: 3_600_000 }), default: 60_000, description: 'lease per claimed message' })
 */
export function setting<T, const D extends T | undefined>(
  // NoInfer: the value type comes from `parse` and `default`, never from `redact`'s parameter.
  declaration: Omit<Setting<T, D>, 'redact'> & { redact?(value: NoInfer<T>): unknown },
): Setting<T, D> {
  return declaration;
}

/**
 * Redaction of a secret: each value (or list item) becomes `[redacted]`.
 *
 * @example
 * hidden(['a', 'b']) // ['[redacted]', '[redacted]']
 */
export function hidden(value: string | readonly string[]): unknown {
  return typeof value === 'string' ? '[redacted]' : value.map(() => '[redacted]');
}

/**
 * Hides the password of a connection string, keeping the rest readable.
 *
 * @example
 * redactUrl('postgres://app:pw@db/app') // 'postgres://app:***@db/app'
 */
export function redactUrl(url: string): string {
  if (!URL.canParse(url)) return '[redacted]';
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

/**
 * A setting's default as help and README show it: `-` when unset.
 *
 * @example
 * defaultText(SETTINGS.batchSize) // '500'
 */
export function defaultText(s: Setting<unknown>): string {
  return s.default instanceof ComputedDefault ? s.default.text : formatValue(s.default);
}

/**
 * A value as one line of text: lists comma-joined, unset as `-`.
 *
 * @example
 * formatValue(['console', 'webhook']) // 'console,webhook'
 */
export function formatValue(value: unknown): string {
  if (value === undefined) return '-';
  if (Array.isArray(value)) return value.length === 0 ? '-' : value.join(',');
  return String(value);
}
