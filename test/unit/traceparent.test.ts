import { describe, expect, it } from 'vitest';
import { formatTraceparent, parseTraceparent } from '../../src/core/foundation/tracing.js';

const VALID = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('parseTraceparent', () => {
  it('reads the ids and flags of a W3C traceparent, and formats them back', () => {
    const parsed = parseTraceparent(VALID);
    expect(parsed).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
    });
    expect(formatTraceparent(parsed!)).toBe(VALID);
    expect(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff')?.traceFlags).toBe(255);
  });

  it('accepts surrounding whitespace and the extra fields a later version may add', () => {
    expect(parseTraceparent(` ${VALID}\t`)?.spanId).toBe('00f067aa0ba902b7');
    expect(parseTraceparent(`01${VALID.slice(2)}-what-comes-next`)?.traceFlags).toBe(1);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['short', VALID.slice(0, 54)],
    ['uppercase hex', VALID.toUpperCase()],
    ['a non-hex character', VALID.replace('4bf9', '4bg9')],
    ['a misplaced dash', '00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01'],
    ['version ff', `ff${VALID.slice(2)}`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
    ['an all-zero span id', `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`],
    ['trailing text without a dash', `${VALID}x`],
    ['a line break in the trailing fields', `${VALID}-a\nb`],
  ])('rejects a traceparent that is %s', (_name, text) => {
    expect(parseTraceparent(text)).toBeUndefined();
  });
});
