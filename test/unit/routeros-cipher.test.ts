import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CredentialsCipher,
  CredentialsError,
  credentialsKeyId,
  parseCredentialsKey,
} from '../../src/publishers/routeros/credentials-cipher.js';

const key = randomBytes(32);

describe('CredentialsCipher', () => {
  it('round-trips a password without the password appearing in the ciphertext', () => {
    const cipher = new CredentialsCipher({ key });
    const stored = cipher.encrypt('s3cret-pässword', 'tower-3');
    expect(stored).not.toContain('s3cret');
    expect(stored.startsWith(`v1:${credentialsKeyId(key)}:`)).toBe(true);
    expect(cipher.decrypt(stored, 'tower-3')).toBe('s3cret-pässword');
    expect(cipher.encrypt('s3cret-pässword', 'tower-3')).not.toBe(stored);
  });

  it('accepts the key as 64 hex characters or base64', () => {
    const fromHex = new CredentialsCipher({ key: key.toString('hex') });
    const fromBase64 = new CredentialsCipher({ key: key.toString('base64') });
    expect(fromBase64.decrypt(fromHex.encrypt('pw', 'a'), 'a')).toBe('pw');
  });

  it('fails clearly on a missing or malformed key, without echoing it', () => {
    expect(() => parseCredentialsKey('', 'OUTBOX_CREDENTIALS_KEY')).toThrow(
      /OUTBOX_CREDENTIALS_KEY is missing/,
    );
    const short = randomBytes(16).toString('base64');
    const error = (() => {
      try {
        parseCredentialsKey(short, 'OUTBOX_CREDENTIALS_KEY');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(CredentialsError);
    expect(error?.message).toMatch(/must be 32 bytes/);
    expect(error?.message).not.toContain(short);
  });

  it('names both key ids when the stored password was made with another key', () => {
    const stored = new CredentialsCipher({ key }).encrypt('pw', 'tower-3');
    const other = new CredentialsCipher({ key: randomBytes(32) });
    expect(() => other.decrypt(stored, 'tower-3')).toThrow(
      new RegExp(`key id ${credentialsKeyId(key)}.*${other.keyId}.*OUTBOX_CREDENTIALS_KEY`),
    );
  });

  it('decrypts with a previous key after rotation and flags the row for re-encryption', () => {
    const stored = new CredentialsCipher({ key }).encrypt('pw', 'tower-3');
    const rotated = new CredentialsCipher({ key: randomBytes(32), previousKeys: [key] });
    expect(rotated.decrypt(stored, 'tower-3')).toBe('pw');
    expect(rotated.needsReEncryption(stored)).toBe(true);
    expect(rotated.needsReEncryption(rotated.encrypt('pw', 'tower-3'))).toBe(false);
  });

  it('refuses a ciphertext copied onto another device or altered', () => {
    const cipher = new CredentialsCipher({ key });
    const stored = cipher.encrypt('pw', 'tower-3');
    expect(() => cipher.decrypt(stored, 'tower-4')).toThrow(CredentialsError);
    const parts = stored.split(':');
    parts[4] = Buffer.from('xx').toString('base64');
    expect(() => cipher.decrypt(parts.join(':'), 'tower-3')).toThrow(/failed authentication/);
  });
});
