import type { DestinationPolicy } from '../../core/foundation/destination-policy.js';
import { OutboxValidationError } from '../../core/foundation/errors.js';
import { validateDestinationPolicies } from '../../core/maintenance/destination-limits.js';
import type { SettingParser } from './setting-parsers.js';
import { setting } from './setting.js';

/** The keys of one DESTINATION_LIMITS entry -> the library's policy fields. */
const KEYS: Record<string, keyof DestinationPolicy> = {
  rate: 'ratePerSecond',
  burst: 'burst',
  maxInFlight: 'maxInFlight',
};

/**
 * DESTINATION_LIMITS: a JSON object of pattern -> `{ rate?, burst?, maxInFlight? }`
 * (`{"webhook:*":{"rate":100,"burst":20,"maxInFlight":4},"tenant:acme":{"rate":10}}`), checked by
 * the library's own rules; a problem names the entry and the key.
 *
 * @example
 * destinationLimits.parse({ raw: '{"tenant:acme":{"rate":10}}', label: 'DESTINATION_LIMITS', shown: '...' })
 */
export const destinationLimits: SettingParser<Readonly<Record<string, DestinationPolicy>>> = {
  flagType: 'string',
  parse(input) {
    const fail = (why: string) => ({ ok: false as const, problem: `${input.label} ${why}` });
    let parsed: unknown;
    try {
      parsed = JSON.parse(input.raw);
    } catch (error) {
      return fail(
        `must be JSON like {"webhook:*":{"rate":100,"burst":20,"maxInFlight":4}}: ${(error as Error).message}`,
      );
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
      return fail('must be a JSON object of pattern -> {"rate", "burst", "maxInFlight"}');
    const policies: Record<string, DestinationPolicy> = {};
    for (const [pattern, entry] of Object.entries(parsed)) {
      const at = `[${JSON.stringify(pattern)}]`;
      if (!entry || typeof entry !== 'object' || Array.isArray(entry))
        return fail(`${at} must be an object like {"rate":100,"burst":20,"maxInFlight":4}`);
      const policy: DestinationPolicy = {};
      for (const [key, value] of Object.entries(entry)) {
        const field = KEYS[key];
        if (!field) return fail(`${at}.${key} is not a limit: use rate, burst or maxInFlight`);
        policy[field] = value as number;
      }
      policies[pattern] = policy;
    }
    try {
      validateDestinationPolicies(policies);
    } catch (error) {
      if (!(error instanceof OutboxValidationError)) throw error;
      // The library names its own fields; the variable says rate where the API says ratePerSecond.
      const field = error.field.replace(/\.ratePerSecond$/, '.rate').replace(/\.policy$/, '');
      return fail(`${field} ${error.reason.replace('ratePerSecond', 'rate')}`);
    }
    return { ok: true, value: policies };
  },
};

/** The setting of limits, spread into SETTINGS (settings.ts) like the libpq and NATS ones. */
export const DESTINATION_LIMIT_SETTINGS = {
  destinationLimits: setting({
    env: 'DESTINATION_LIMITS',
    flag: 'destination-limits',
    parse: destinationLimits,
    default: undefined,
    description:
      'rate limits and concurrency caps `start` applies to the table for every relay, JSON: {"webhook:*":{"rate":100,"burst":20,"maxInFlight":4},"tenant:acme":{"rate":10}} (they replace a runtime `destinations set` of the same pattern; docs/destinations.md)',
  }),
};
