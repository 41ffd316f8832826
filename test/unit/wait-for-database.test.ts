import { describe, expect, it } from 'vitest';
import { DatabaseWaitTimeoutError, waitForDatabase } from '../../src/cli/runtime/wait-for-database.js';

/** Time that moves only when the wait sleeps, so every pause is exact. */
function fakeTime() {
  let t = 0;
  const pauses: number[] = [];
  return {
    pauses,
    now: () => t,
    sleep: async (ms: number) => {
      pauses.push(ms);
      t += ms;
    },
  };
}

function failTimes(n: number): () => Promise<string> {
  let calls = 0;
  return async () => {
    if (++calls <= n)
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    return `answered on call ${calls}`;
  };
}

describe('waitForDatabase', () => {
  it('retries with doubling pauses capped at the maximum, reporting each failed attempt once', async () => {
    const time = fakeTime();
    const seen: number[] = [];
    const result = await waitForDatabase(failTimes(7), {
      timeoutMs: undefined,
      address: '127.0.0.1:5432',
      now: time.now,
      sleep: time.sleep,
      onRetry: ({ attempt }) => seen.push(attempt),
    });
    expect(result).toBe('answered on call 8');
    expect(time.pauses).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('gives up after the timeout with a typed error naming the address and the last failure', async () => {
    const time = fakeTime();
    const error = await waitForDatabase(failTimes(1000), {
      timeoutMs: 3000,
      address: 'db.internal:5433',
      now: time.now,
      sleep: time.sleep,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseWaitTimeoutError);
    expect((error as DatabaseWaitTimeoutError).code).toBe('DB_WAIT_TIMEOUT');
    expect((error as Error).message).toBe(
      'the database at db.internal:5433 did not answer within 3000 ms (5 attempts; last: connect ECONNREFUSED 127.0.0.1:5432)',
    );
    // The last pause is cut to the deadline, never past it.
    expect(time.pauses).toEqual([250, 500, 1000, 1250]);
  });

  it('throws a permanent error at once instead of retrying it', async () => {
    const time = fakeTime();
    const wrongPassword = Object.assign(new Error('password authentication failed'), { code: '28P01' });
    const error = await waitForDatabase(
      async () => {
        throw wrongPassword;
      },
      {
        timeoutMs: undefined,
        address: 'db:5432',
        now: time.now,
        sleep: time.sleep,
        isPermanent: (e) => (e as { code?: string }).code === '28P01',
      },
    ).catch((e: unknown) => e);
    expect(error).toBe(wrongPassword);
    expect(time.pauses).toEqual([]);
  });

  it.each([
    ['before the pause starts', (abort: () => void) => abort()],
    ['in the middle of a real pause', (abort: () => void) => queueMicrotask(abort)],
  ])('resolves with undefined as soon as its signal aborts, %s', async (_when, schedule) => {
    const controller = new AbortController();
    const waiting = waitForDatabase(failTimes(1000), {
      timeoutMs: undefined,
      address: 'db:5432',
      signal: controller.signal,
      initialDelayMs: 3_600_000,
      onRetry: () => schedule(() => controller.abort()),
    });
    await expect(waiting).resolves.toBeUndefined();
  });
});

describe('waitForDatabase and a signal during a successful attempt', () => {
  it('resolves with undefined: the caller is stopping, not starting', async () => {
    const controller = new AbortController();
    const result = await waitForDatabase(
      async () => {
        controller.abort();
        return 7;
      },
      { timeoutMs: undefined, address: 'db:5432', signal: controller.signal },
    );
    expect(result).toBeUndefined();
  });
});
