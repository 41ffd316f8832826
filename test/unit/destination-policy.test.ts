// The rules of a limit's pattern and policy (issue #22 item 2), shared by the library,
// DESTINATION_LIMITS and the CLI. On main none of this existed.
import { describe, expect, it } from 'vitest';
import { parseLimitPattern, resolveDestinationPolicy } from '../../src/core/foundation/destination-policy.js';
import { destinationLimits } from '../../src/cli/config/destination-limits-setting.js';

const env = (raw: string) => destinationLimits.parse({ raw, label: 'DESTINATION_LIMITS', shown: '[value]' });

describe('limit patterns', () => {
  it('reads a destination, a route and a tenant', () => {
    expect(parseLimitPattern('webhook:acme')).toEqual({
      kind: 'destination',
      pattern: 'webhook:acme',
      destination: 'webhook:acme',
      route: 'webhook',
    });
    expect(parseLimitPattern('webhook')).toMatchObject({ kind: 'destination', route: 'webhook' });
    expect(parseLimitPattern('webhook:*')).toEqual({ kind: 'route', pattern: 'webhook:*', route: 'webhook' });
    expect(parseLimitPattern('tenant:acme')).toEqual({
      kind: 'tenant',
      pattern: 'tenant:acme',
      tenant: 'acme',
    });
  });

  it.each(['', '*', 'webhook:a*', 'web*:x', 'tenant:', ':*'])('refuses %j, naming the forms allowed', (p) => {
    expect(() => parseLimitPattern(p)).toThrow(/pattern: .*webhook:acme.*webhook:\*.*tenant:acme/);
  });
});

describe('limit policies', () => {
  it('defaults the burst to one second of the rate', () => {
    expect(resolveDestinationPolicy({ ratePerSecond: 100 })).toEqual({
      ratePerSecond: 100,
      burst: 100,
      maxInFlight: null,
    });
    expect(resolveDestinationPolicy({ ratePerSecond: 0.5 })).toEqual({
      ratePerSecond: 0.5,
      burst: 1,
      maxInFlight: null,
    });
    expect(resolveDestinationPolicy({ maxInFlight: 4 })).toEqual({
      ratePerSecond: null,
      burst: null,
      maxInFlight: 4,
    });
  });

  it('names the bad field and its bounds', () => {
    expect(() => resolveDestinationPolicy({})).toThrow('policy: needs ratePerSecond, maxInFlight or both');
    expect(() => resolveDestinationPolicy({ ratePerSecond: 0 })).toThrow(
      'ratePerSecond: must be a number 0.001..1000000, got 0',
    );
    expect(() => resolveDestinationPolicy({ maxInFlight: 1.5 })).toThrow(
      'maxInFlight: must be an integer 1..100000, got 1.5',
    );
    expect(() => resolveDestinationPolicy({ maxInFlight: 2, burst: 3 })).toThrow(
      'burst: goes with ratePerSecond',
    );
  });
});

describe('DESTINATION_LIMITS', () => {
  it('reads rate, burst and maxInFlight per pattern', () => {
    expect(env('{"webhook:*":{"rate":100,"burst":20,"maxInFlight":4},"tenant:acme":{"rate":10}}')).toEqual({
      ok: true,
      value: {
        'webhook:*': { ratePerSecond: 100, burst: 20, maxInFlight: 4 },
        'tenant:acme': { ratePerSecond: 10 },
      },
    });
  });

  it.each([
    ['[1]', 'DESTINATION_LIMITS must be a JSON object of pattern'],
    ['{"webhook":5}', 'DESTINATION_LIMITS ["webhook"] must be an object like'],
    [
      '{"webhook":{"rps":5}}',
      'DESTINATION_LIMITS ["webhook"].rps is not a limit: use rate, burst or maxInFlight',
    ],
    [
      '{"webhook":{"rate":-1}}',
      'DESTINATION_LIMITS ["webhook"].rate must be a number 0.001..1000000, got -1',
    ],
    ['{"webhook":{}}', 'DESTINATION_LIMITS ["webhook"] needs rate, maxInFlight or both'],
  ])('%s: %s', (raw, problem) => {
    const r = env(raw);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.problem).toContain(problem);
  });
});
