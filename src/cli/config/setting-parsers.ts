import type { IntBounds } from '../../core/foundation/option-checks.js';
import { OutboxValidationError } from '../../core/foundation/errors.js';
import { quoteSchema } from '../../core/foundation/schema-name.js';
import { cronProblem } from '../../jobs/cron-expression.js';
import { CredentialsError, parseCredentialsKey } from '../../publishers/routeros/credentials-cipher.js';
import { WebhookSecret } from '../../publishers/webhook/webhook-secret.js';

/** What a parser gets: the raw text, the name to blame, and the raw text as it may be printed. */
export interface ParseInput {
  readonly raw: string;
  /** `BATCH_SIZE` or `--batch-size`: where the value came from. */
  readonly label: string;
  /** The raw text quoted, or `[redacted]` for secrets: problems show this, never `raw`. */
  readonly shown: string;
}

/** A parsed value, or one problem sentence that starts with the label. */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; problem: string };

/** Turns a setting's text into its typed value. */
export interface SettingParser<T> {
  /** `boolean` settings are flags without a value (`--enable-jobs`, `--no-enable-jobs`). */
  readonly flagType: 'string' | 'boolean';
  parse(input: ParseInput): ParseResult<T>;
}

function textParser<T>(parse: (input: ParseInput) => ParseResult<T>): SettingParser<T> {
  return { flagType: 'string', parse };
}

/** The usual problem: `<label> must be <rule>, got <shown>`. */
function mustBe(input: ParseInput, rule: string): { ok: false; problem: string } {
  return { ok: false, problem: `${input.label} must be ${rule}, got ${input.shown}` };
}

/**
 * `value` if the library's `validate` accepts it, else its error worded with the setting's
 * name: an `OutboxValidationError` is `<field> <reason>`, a `CredentialsError` is written with
 * the field as subject already. Neither ever contains the value. Other errors are bugs.
 */
function libraryRule<T>(value: T, validate: () => unknown): ParseResult<T> {
  try {
    validate();
    return { ok: true, value };
  } catch (error) {
    if (error instanceof OutboxValidationError)
      return { ok: false, problem: `${error.field} ${error.reason}` };
    if (error instanceof CredentialsError) return { ok: false, problem: error.message };
    throw error;
  }
}

/**
 * A whole number in `min..max`.
 *
 * @example
 * integer({ min: 1, max: 10_000 }).parse({ raw: '500', label: 'BATCH_SIZE', shown: '"500"' }) // { ok: true, value: 500 }
 */
export function integer({ min, max }: IntBounds): SettingParser<number> {
  return textParser((input) => {
    const text = input.raw.trim();
    const value = Number(text);
    return /^-?\d+$/.test(text) && value >= min && value <= max
      ? { ok: true, value }
      : mustBe(input, `an integer ${min}..${max}`);
  });
}

/**
 * A decimal number in `min..max` (`0.2`).
 *
 * @example
 * decimal({ min: 0, max: 1 }).parse({ raw: '0.2', label: 'RETRY_JITTER', shown: '"0.2"' }) // { ok: true, value: 0.2 }
 */
export function decimal({ min, max }: { min: number; max: number }): SettingParser<number> {
  return textParser((input) => {
    const text = input.raw.trim();
    const value = Number(text);
    return /^-?\d+(\.\d+)?$/.test(text) && value >= min && value <= max
      ? { ok: true, value }
      : mustBe(input, `a number ${min}..${max}`);
  });
}

// Only the two spellings every shell script and compose file uses. `yes`, `on`, `enabled` or a
// typo were once read as true (or false): a switch that guards a security check must not guess.
const TRUE = new Set(['true', '1']);
const FALSE = new Set(['false', '0']);

/**
 * `true`/`false` (also 1/0, any case); anything else is a problem. Its flag takes no value.
 *
 * @example
 * flag.parse({ raw: '1', label: 'ENABLE_JOBS', shown: '"1"' }) // { ok: true, value: true }
 * flag.parse({ raw: 'yes', label: 'ENABLE_JOBS', shown: '"yes"' }) // { ok: false, problem: 'ENABLE_JOBS must be true, false, 1 or 0, got "yes"' }
 */
export const flag: SettingParser<boolean> = {
  flagType: 'boolean',
  parse(input) {
    const text = input.raw.trim().toLowerCase();
    if (TRUE.has(text)) return { ok: true, value: true };
    if (FALSE.has(text)) return { ok: true, value: false };
    return mustBe(input, 'true, false, 1 or 0');
  },
};

/**
 * One of a fixed list of words.
 *
 * @example
 * oneOf(['relay', 'jobs', 'all'] as const)
 */
export function oneOf<const T extends string>(values: readonly T[]): SettingParser<T> {
  return textParser((input) => {
    const text = input.raw.trim();
    const found = values.find((v) => v === text);
    return found === undefined ? mustBe(input, `one of ${values.join(', ')}`) : { ok: true, value: found };
  });
}

/**
 * A comma list of words from a fixed list (case-insensitive, duplicates dropped, at least one).
 *
 * @example
 * commaListOf(['console', 'webhook'] as const) // 'webhook, console' -> ['webhook', 'console']
 */
export function commaListOf<const T extends string>(values: readonly T[]): SettingParser<readonly T[]> {
  return textParser((input) => {
    const words = [...new Set(input.raw.split(',').map((s) => s.trim().toLowerCase()))].filter(Boolean);
    const found = words.map((w) => values.find((v) => v === w));
    const known = found.filter((v): v is T => v !== undefined);
    return known.length > 0 && known.length === words.length
      ? { ok: true, value: known }
      : mustBe(input, `a comma list of ${values.join(', ')}`);
  });
}

/**
 * Trimmed text of `min..max` characters; `rule` words the limit for the problem.
 *
 * @example
 * text({ min: 16, rule: 'at least 16 characters' })
 */
export function text(options: { min: number; max?: number; rule: string }): SettingParser<string> {
  return textParser((input) => {
    const value = input.raw.trim();
    return value.length >= options.min && value.length <= (options.max ?? Number.POSITIVE_INFINITY)
      ? { ok: true, value }
      : mustBe(input, options.rule);
  });
}

/** A five- or six-field cron expression node-cron accepts. */
export const cron: SettingParser<string> = textParser((input) => {
  const problem = cronProblem(input.raw);
  return problem
    ? { ok: false, problem: `${input.label} ${input.shown} is not a valid cron expression (${problem})` }
    : { ok: true, value: input.raw.trim() };
});

function parsedUrl(text: string): URL | undefined {
  return URL.canParse(text) ? new URL(text) : undefined;
}

/** An absolute `http:` or `https:` URL. */
export const httpUrl: SettingParser<string> = textParser((input) => {
  const value = input.raw.trim();
  const protocol = parsedUrl(value)?.protocol;
  return protocol === 'http:' || protocol === 'https:'
    ? { ok: true, value }
    : mustBe(input, 'an http(s) URL');
});

/** A `postgres://` connection string; the problem never echoes it (it holds a password). */
export const postgresUrl: SettingParser<string> = textParser((input) => {
  const value = input.raw.trim();
  const protocol = parsedUrl(value)?.protocol;
  return protocol === 'postgres:' || protocol === 'postgresql:'
    ? { ok: true, value }
    : { ok: false, problem: `${input.label} must be a postgres:// or postgresql:// URL` };
});

/** A schema name, by the library's own rule (`quoteSchema`). */
export const schemaName: SettingParser<string> = textParser((input) => {
  const value = input.raw.trim();
  return libraryRule(value, () => quoteSchema(value, input.label));
});

/**
 * Comma-separated secrets (current first): `whsec_<base64>`, or plain secrets of at least 24
 * bytes used as raw key bytes (seed 004), by the webhook publisher's own rule
 * (`WebhookSecret.parseAny`), so a secret that passes here never fails at start.
 */
export const webhookSecrets: SettingParser<readonly string[]> = textParser((input) => {
  const list = input.raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const label = (i: number) => (list.length === 1 ? input.label : `${input.label}[${i}]`);
  if (list.length === 0) return libraryRule(list, () => WebhookSecret.parseList(list, input.label));
  return libraryRule(list, () => list.map((s, i) => WebhookSecret.parseAny(s, label(i))));
});

/** A 32-byte key as hex or base64, by the RouterOS cipher's own rule (`parseCredentialsKey`). */
export const credentialsKey: SettingParser<string> = textParser((input) => {
  const value = input.raw.trim();
  return libraryRule(value, () => parseCredentialsKey(value, input.label));
});
