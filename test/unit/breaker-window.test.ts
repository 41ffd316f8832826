import { describe, expect, it } from 'vitest';
import { BreakerWindow } from '../../src/core/relay/breaker-window.js';

// The circuit breaker's opening rule (docs/destinations.md#circuit-breaker): at least 10
// attempts in the window, at least 90% transient failures, from more than one message (or
// unreachable).
describe('BreakerWindow', () => {
  it('trips at 10 attempts with 90% failures from several messages, not at 9 or at 80%', () => {
    const w = new BreakerWindow(30_000);
    for (let i = 0; i < 9; i++) w.record(`m${i}`, true, i);
    expect(w.trips(10, 0.9, 9)).toBe(false);
    w.record('m9', true, 9);
    expect(w.trips(10, 0.9, 10)).toBe(true);

    const mixed = new BreakerWindow(30_000);
    for (let i = 0; i < 20; i++) mixed.record(`m${i}`, i % 5 !== 0, i); // 80% failing
    expect(mixed.trips(10, 0.9, 20)).toBe(false);
  });

  it('never trips on one message failing alone (a key head), unless it cannot reach the receiver', () => {
    const w = new BreakerWindow(30_000);
    for (let i = 0; i < 50; i++) w.record('head-of-bad-key', true, i * 100);
    expect(w.trips(10, 0.9, 5_000)).toBe(false);

    const router = new BreakerWindow(30_000);
    for (let i = 0; i < 10; i++) router.record('command-1', true, i * 100, true);
    expect(router.trips(10, 0.9, 1_000)).toBe(true);
  });

  it('forgets attempts older than the window', () => {
    const w = new BreakerWindow(1_000);
    for (let i = 0; i < 10; i++) w.record(`m${i}`, true, i);
    expect(w.trips(10, 0.9, 50)).toBe(true);
    expect(w.trips(10, 0.9, 2_000)).toBe(false);
  });
});
