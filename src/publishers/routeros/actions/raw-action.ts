import { z } from 'zod';
import { attributeWords, type RouterOsAction } from './routeros-action.js';

/** Commands that would break the connection's protocol state rather than configure the router. */
const FORBIDDEN = new Set(['/login', '/quit', '/cancel']);

const rawParams = z.strictObject({
  command: z
    .string()
    .regex(/^(\/[a-z0-9][a-z0-9-]*)+$/, 'must be a menu command like /system/identity/set')
    .refine((c) => !FORBIDDEN.has(c), { message: 'is reserved for the connection itself' }),
  attributes: z
    .record(z.string().regex(/^\.?[a-z0-9][a-z0-9.-]*$/), z.union([z.string(), z.number(), z.boolean()]))
    .optional(),
  /** Query words for a print, e.g. `['?name=alice']`. */
  queries: z.array(z.string().regex(/^\?/, "must start with '?'")).optional(),
  /**
   * True when running the command twice is harmless. Without it, a raw command whose
   * outcome is unknown (the connection broke after it was sent) is dead-lettered instead of
   * retried, so it is never applied twice.
   */
  idempotent: z.boolean().optional(),
});

/** Params of the `raw` action. */
export type RawParams = z.infer<typeof rawParams>;

/**
 * `raw`: runs one menu command with attributes, for what the high-level actions do not
 * cover. The router's rows are returned as the result.
 *
 * @example
 * outbox.addCommand(trx, { device: 'tower-3', action: 'raw', params: { command: '/system/identity/set', attributes: { name: 'tower-3' }, idempotent: true } });
 */
export const rawAction: RouterOsAction<RawParams> = {
  name: 'raw',
  params: rawParams,
  async run({ ros }, { command, attributes, queries }) {
    const rows = await ros.run(command, [...attributeWords(attributes ?? {}), ...(queries ?? [])]);
    return { action: 'ran', command, rows };
  },
};
