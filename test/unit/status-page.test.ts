import { describe, expect, it } from 'vitest';
import {
  DESTINATION_STATE_RULES,
  type DestinationFacts,
  destinationState,
} from '../../src/cli/status-page/destination-state.js';
import { FailureCounters } from '../../src/cli/status-page/failure-counters.js';

const idle: DestinationFacts = {
  waiting: 0,
  attempted: 0,
  oldestWaitingSeconds: 0,
  delivered5m: 0,
  failed5m: 0,
  dead5m: 0,
};

describe('destinationState', () => {
  it('calls a router offline for an hour stuck, even while its retries keep failing', () => {
    expect(
      destinationState({ ...idle, waiting: 40, attempted: 40, oldestWaitingSeconds: 3600, failed5m: 9 }),
    ).toBe('stuck');
  });

  it('calls messages nobody ever attempted unserved once they wait over a minute', () => {
    expect(destinationState({ ...idle, waiting: 3, oldestWaitingSeconds: 61 })).toBe('unserved');
    expect(destinationState({ ...idle, waiting: 3, oldestWaitingSeconds: 30 })).toBe('flowing');
  });

  it('calls recent failures with no delivery failing, and with deliveries not', () => {
    expect(destinationState({ ...idle, failed5m: 2 })).toBe('failing');
    expect(destinationState({ ...idle, failed5m: 2, delivered5m: 10 })).toBe('flowing');
  });

  it('calls a destination where as many messages died as were delivered failing, fewer deaths not', () => {
    // Half of the last 5 minutes' messages died: failures and deliveries both seen.
    expect(destinationState({ ...idle, delivered5m: 5, failed5m: 5, dead5m: 5 })).toBe('failing');
    expect(destinationState({ ...idle, delivered5m: 50, failed5m: 1, dead5m: 1 })).toBe('flowing');
  });

  it('calls a paused destination paused, whatever its counts say', () => {
    expect(destinationState({ ...idle, paused: true, waiting: 5, oldestWaitingSeconds: 3600 })).toBe(
      'paused',
    );
    expect(destinationState({ ...idle, paused: true })).toBe('paused');
  });

  it('calls a destination whose circuit breaker is open open (half-open while probing), a pause first', () => {
    const outage = { ...idle, waiting: 50, attempted: 50, oldestWaitingSeconds: 900, failed5m: 30 };
    expect(destinationState({ ...outage, breaker: 'open' })).toBe('open');
    expect(destinationState({ ...outage, breaker: 'half-open' })).toBe('half-open');
    expect(destinationState({ ...outage, breaker: 'open', paused: true })).toBe('paused');
  });

  it('calls a backlog that still delivers slow, and an idle destination flowing', () => {
    expect(
      destinationState({ ...idle, waiting: 500, attempted: 10, oldestWaitingSeconds: 900, delivered5m: 300 }),
    ).toBe('slow');
    expect(destinationState(idle)).toBe('flowing');
  });

  it('has one legend sentence per state', () => {
    expect(DESTINATION_STATE_RULES.map((r) => r.state)).toEqual([
      'paused',
      'open',
      'half-open',
      'throttled',
      'unserved',
      'stuck',
      'failing',
      'slow',
      'flowing',
    ]);
  });
});

describe('FailureCounters', () => {
  it('counts failures per destination and minute, and forgets what is older than an hour', () => {
    const c = new FailureCounters();
    const t0 = Date.parse('2030-01-01T10:00:00Z');
    c.add('a', new Date(t0 + 5_000));
    c.add('a', new Date(t0 + 59_000));
    c.add('b', new Date(t0 + 61_000));
    expect(c.perMinute(new Date(t0), new Date(t0 + 120_000))).toEqual([
      { destination: 'a', minute: t0, count: 2 },
      { destination: 'b', minute: t0 + 60_000, count: 1 },
    ]);
    c.add('c', new Date(t0 + 61 * 60_000));
    expect(c.perMinute(new Date(t0 - 60_000), new Date(t0 + 63 * 60_000))).toEqual([
      { destination: 'b', minute: t0 + 60_000, count: 1 },
      { destination: 'c', minute: t0 + 61 * 60_000, count: 1 },
    ]);
  });
});
