import { describe, expect, it } from 'vitest';
import { schemaFit } from '../../src/core/migrations/schema-state.js';

describe('schemaFit', () => {
  it('lets a relay claim from its own version and from newer ones that let it stay', () => {
    expect(schemaFit({ version: 7, relaysFrom: 7 }, 7)).toBe('current');
    expect(schemaFit({ version: 9, relaysFrom: 7 }, 7)).toBe('newer_compatible');
    expect(schemaFit({ version: 9, relaysFrom: 5 }, 7)).toBe('newer_compatible');
  });

  it('stops it on a newer schema that raised relays_from past it, and on an older one', () => {
    expect(schemaFit({ version: 9, relaysFrom: 8 }, 7)).toBe('too_new');
    expect(schemaFit({ version: 6, relaysFrom: 6 }, 7)).toBe('too_old');
    expect(schemaFit({ version: 0, relaysFrom: 0 }, 7)).toBe('too_old');
  });
});
