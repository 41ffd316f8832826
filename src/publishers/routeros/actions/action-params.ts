import { z } from 'zod';
import { PermanentPublishError } from '../../../core/foundation/errors.js';

/** RouterOS words are length-prefixed, so any text is safe on the wire; control characters are still refused as a sign of bad input. */
const text = (max = 255) =>
  z
    .string()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((value) => ![...value].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f), {
      message: 'must not contain control characters',
    });

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const IPV4_OR_CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}(\/([12]?\d|3[0-2]))?$/;
const RATE = '\\d+(\\.\\d+)?[kMG]?';

/** Reusable param schemas; names follow RouterOS attribute names (`remote-address`). */
export const paramSchemas = {
  name: text(),
  password: z.string().min(1, 'must not be empty').max(255, 'must be at most 255 characters'),
  profile: text(),
  ipv4: z.string().regex(IPV4, 'must be an IPv4 address like 10.0.0.5'),
  address: z.string().regex(IPV4_OR_CIDR, 'must be an IPv4 address or network like 10.0.0.5 or 10.0.0.0/24'),
  comment: z.string().max(1024, 'must be at most 1024 characters'),
  rates: z.string().regex(new RegExp(`^${RATE}/${RATE}$`), 'must be upload/download like 10M/20M'),
  service: z.enum(['any', 'async', 'l2tp', 'ovpn', 'pppoe', 'pptp', 'sstp']),
  text,
} as const;

/** camelCase param names are accepted too: `remoteAddress` means `remote-address`. */
function kebabKeys(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), v]),
  );
}

/**
 * Validates a command's params against its action's schema. Throws PermanentPublishError
 * naming each bad field (`params.password: required`); values are never echoed, since they
 * may be passwords.
 *
 * @example
 * parseActionParams('pppoe.delete', schema, { name: 'alice' }); // { name: 'alice' }
 */
export function parseActionParams<P>(action: string, schema: z.ZodType<P>, payload: unknown): P {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new PermanentPublishError(`${action}: params must be an object`);
  }
  // reportInput lets a missing field read "required"; the input itself is never put in the message.
  const parsed = schema.safeParse(kebabKeys(payload), { reportInput: true });
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return `params.${issue.keys.join(', params.')}: unknown parameter`;
    }
    const field = ['params', ...issue.path.map(String)].join('.');
    const missing = issue.code === 'invalid_type' && issue.input === undefined;
    return `${field}: ${missing ? 'required' : issue.message}`;
  });
  throw new PermanentPublishError(`${action}: invalid params: ${problems.join('; ')}`);
}
