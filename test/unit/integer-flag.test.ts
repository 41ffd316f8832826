import { describe, expect, it } from 'vitest';
import { integerFlag, UsageError } from '../../src/cli/command.js';

describe('integerFlag', () => {
  const range = { min: 1, max: 100_000, fallback: 300 };

  it('reads a command’s integer flag, the fallback when it is absent', () => {
    expect(integerFlag({}, 'orders', range)).toBe(300);
    expect(integerFlag({ orders: '80' }, 'orders', range)).toBe(80);
    expect(integerFlag({ orders: ['5', '7'] }, 'orders', range)).toBe(7);
  });

  it.each(['0', '100001', '1.5', 'many', ''])(
    'refuses %j with the settings’ wording, as a usage error',
    (raw) => {
      expect(() => integerFlag({ orders: raw }, 'orders', range)).toThrow(UsageError);
      expect(() => integerFlag({ orders: raw }, 'orders', range)).toThrow(
        `--orders must be an integer 1..100000, got ${JSON.stringify(raw)}`,
      );
    },
  );
});
