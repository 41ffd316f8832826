import { describe, expect, it } from 'vitest';
import {
  classifyTrap,
  isAlreadyExistsTrap,
  isLoginRejectedTrap,
  isNoSuchItemTrap,
} from '../../src/publishers/routeros/trap-classifier.js';

describe('classifyTrap', () => {
  it.each([
    'not enough permissions (9)',
    'input does not match any value of profile',
    'invalid value for argument remote-address',
    'unknown parameter foo',
    'no such command prefix',
    'no such command',
    'failure: something nobody documented',
  ])('dead-letters %j', (message) => {
    expect(classifyTrap(message)).toBe('permanent');
  });

  it.each(['interrupted', 'action timed out - try again', 'too many sessions', 'router busy'])(
    'retries %j',
    (message) => {
      expect(classifyTrap(message)).toBe('transient');
    },
  );

  it('recognises the texts the idempotent actions recover from', () => {
    expect(isAlreadyExistsTrap('failure: secret with the same name already exists')).toBe(true);
    expect(isAlreadyExistsTrap('failure: already have such entry')).toBe(true);
    expect(isAlreadyExistsTrap('failure: already have such name')).toBe(true);
    expect(isNoSuchItemTrap('no such item')).toBe(true);
    expect(isNoSuchItemTrap('no such item (4)')).toBe(true);
    expect(isNoSuchItemTrap('no such command')).toBe(false);
    expect(isLoginRejectedTrap('invalid user name or password (6)')).toBe(true);
    expect(isLoginRejectedTrap('cannot log in')).toBe(true);
  });
});
