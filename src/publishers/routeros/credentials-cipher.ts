import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { OutboxError } from '../../core/foundation/errors.js';

/** AES-256 needs exactly this many key bytes. */
const KEY_BYTES = 32;
/** GCM's recommended nonce size; a fresh random one per encryption. */
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Format marker of stored ciphertexts, so a future format can coexist. */
const FORMAT = 'v1';

/**
 * A credentials key is missing, malformed, or cannot decrypt a stored password.
 * The message never contains the key or the password.
 *
 * @example
 * catch (e) { if (e instanceof CredentialsError) console.error(e.message); }
 */
export class CredentialsError extends OutboxError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CREDENTIALS_INVALID', message, options);
  }
}

/**
 * Parses a 32-byte key given as 64 hex characters or as base64 (44 characters with padding).
 * `field` names where the key came from, for the error message.
 *
 * @example
 * parseCredentialsKey(process.env.OUTBOX_CREDENTIALS_KEY ?? '', 'OUTBOX_CREDENTIALS_KEY');
 */
export function parseCredentialsKey(text: string, field = 'credentials key'): Buffer {
  const trimmed = typeof text === 'string' ? text.trim() : '';
  if (trimmed === '') {
    throw new CredentialsError(
      `${field} is missing: it must be 32 random bytes as 64 hex characters or base64 (e.g. \`openssl rand -base64 32\`)`,
    );
  }
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) key = Buffer.from(trimmed, 'hex');
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) key = Buffer.from(trimmed, 'base64');
  if (!key || key.length !== KEY_BYTES) {
    throw new CredentialsError(
      `${field} must be 32 bytes as 64 hex characters or base64, got ${trimmed.length} characters` +
        (key ? ` decoding to ${key.length} bytes` : ''),
    );
  }
  return key;
}

/**
 * The id of a key: the first 8 hex characters of its SHA-256. It is stored next to each
 * ciphertext so a rotated-out key is recognised, and it reveals nothing usable about the key.
 *
 * @example
 * credentialsKeyId(key) // 'a1b2c3d4'
 */
export function credentialsKeyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/** Options of `CredentialsCipher`. */
export interface CredentialsCipherOptions {
  /** The current key (32 bytes, or its hex/base64 text): new passwords are encrypted with it. */
  key: Buffer | string;
  /** Older keys still accepted for decryption while passwords are re-encrypted (rotation). */
  previousKeys?: readonly (Buffer | string)[];
}

/**
 * Encrypts device passwords at rest with AES-256-GCM. Each ciphertext carries its key id and
 * is bound to a context string (the device name), so a ciphertext copied onto another device
 * row does not decrypt.
 *
 * @example
 * const cipher = new CredentialsCipher({ key: process.env.OUTBOX_CREDENTIALS_KEY! });
 * const stored = cipher.encrypt('s3cret', 'tower-3'); // 'v1:a1b2c3d4:...'
 * cipher.decrypt(stored, 'tower-3'); // 's3cret'
 */
export class CredentialsCipher {
  /** Id of the key new ciphertexts use. */
  readonly keyId: string;
  readonly #key: Buffer;
  readonly #keys = new Map<string, Buffer>();

  constructor(options: CredentialsCipherOptions) {
    this.#key = typeof options.key === 'string' ? parseCredentialsKey(options.key) : checkKey(options.key);
    this.keyId = credentialsKeyId(this.#key);
    this.#keys.set(this.keyId, this.#key);
    for (const [i, previous] of (options.previousKeys ?? []).entries()) {
      const key =
        typeof previous === 'string'
          ? parseCredentialsKey(previous, `previous key #${i + 1}`)
          : checkKey(previous);
      this.#keys.set(credentialsKeyId(key), key);
    }
  }

  /** Encrypts `plaintext` for `context`; returns `v1:<keyId>:<iv>:<tag>:<ciphertext>` (base64 parts). */
  encrypt(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [
      FORMAT,
      this.keyId,
      iv.toString('base64'),
      cipher.getAuthTag().toString('base64'),
      data.toString('base64'),
    ].join(':');
  }

  /** The key id a stored ciphertext was made with (for finding rows to re-encrypt). */
  static keyIdOf(stored: string): string | undefined {
    const parts = stored.split(':');
    return parts.length === 5 && parts[0] === FORMAT ? parts[1] : undefined;
  }

  /** True when `stored` was encrypted with an older key and should be re-encrypted. */
  needsReEncryption(stored: string): boolean {
    return CredentialsCipher.keyIdOf(stored) !== this.keyId;
  }

  /** Decrypts a value made by `encrypt` with the same context. Throws `CredentialsError` otherwise. */
  decrypt(stored: string, context: string): string {
    const parts = stored.split(':');
    if (parts.length !== 5 || parts[0] !== FORMAT) {
      throw new CredentialsError(`the stored password of "${context}" is not a ${FORMAT} ciphertext`);
    }
    const [, keyId, iv, tag, data] = parts as [string, string, string, string, string];
    const key = this.#keys.get(keyId);
    if (!key) {
      throw new CredentialsError(
        `the password of "${context}" was encrypted with key id ${keyId}, but the configured credentials key has id ` +
          `${this.keyId}${this.#keys.size > 1 ? ` (previous: ${[...this.#keys.keys()].slice(1).join(', ')})` : ''}: ` +
          'configure the key it was stored with (OUTBOX_CREDENTIALS_KEY) or store the password again',
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
    } catch (error) {
      throw new CredentialsError(
        `the password of "${context}" failed authentication with key id ${keyId}: it was altered or belongs to another device`,
        { cause: error },
      );
    }
  }
}

function checkKey(key: Buffer): Buffer {
  if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
    throw new CredentialsError(
      `credentials key must be ${KEY_BYTES} bytes, got ${Buffer.isBuffer(key) ? key.length : typeof key}`,
    );
  }
  return key;
}
