import { inspect } from 'node:util';
import { OutboxValidationError } from '../../core/foundation/errors.js';

/** The Standard Webhooks prefix of a symmetric signing secret. */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';
/** Standard Webhooks asks for at least 24 random bytes (192 bits). */
export const MIN_WEBHOOK_SECRET_BYTES = 24;
/** Longer keys add nothing to HMAC-SHA256 (its block is 64 bytes; longer keys are hashed first). */
export const MAX_WEBHOOK_SECRET_BYTES = 64;

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * A validated `whsec_<base64>` signing secret. It never shows its value: not in
 * `console.log`, `JSON.stringify` or error messages, so a logged config object cannot leak it.
 *
 * @example
 * const secret = WebhookSecret.parse('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
 * secret.key.length // 24
 */
export class WebhookSecret {
  readonly #key: Buffer;
  readonly #text: string;

  private constructor(key: Buffer, text: string) {
    this.#key = key;
    this.#text = text;
  }

  /**
   * Validates a secret; `field` names it in the error (`secrets[1]`), the value is never echoed.
   *
   * @example
   * WebhookSecret.parse(process.env.WEBHOOK_SECRET ?? '', 'OUTBOX_WEBHOOK_SECRET');
   */
  static parse(secret: unknown, field = 'secret'): WebhookSecret {
    if (secret instanceof WebhookSecret) return secret;
    if (typeof secret !== 'string') {
      throw new OutboxValidationError(field, `must be a string "whsec_<base64>", got ${typeof secret}`);
    }
    if (!secret.startsWith(WEBHOOK_SECRET_PREFIX)) {
      throw new OutboxValidationError(
        field,
        `must start with "${WEBHOOK_SECRET_PREFIX}" followed by base64 (Standard Webhooks secret format)`,
      );
    }
    const encoded = secret.slice(WEBHOOK_SECRET_PREFIX.length);
    // Accept unpadded base64 too: several generators strip the '=' padding.
    const padded = encoded.length % 4 === 0 ? encoded : encoded + '='.repeat(4 - (encoded.length % 4));
    if (!BASE64.test(padded) || padded.length % 4 !== 0) {
      throw new OutboxValidationError(
        field,
        `the part after "${WEBHOOK_SECRET_PREFIX}" must be standard base64`,
      );
    }
    const key = Buffer.from(padded, 'base64');
    if (key.length < MIN_WEBHOOK_SECRET_BYTES || key.length > MAX_WEBHOOK_SECRET_BYTES) {
      throw new OutboxValidationError(
        field,
        `must decode to ${MIN_WEBHOOK_SECRET_BYTES}..${MAX_WEBHOOK_SECRET_BYTES} bytes, got ${key.length} bytes`,
      );
    }
    return new WebhookSecret(key, secret);
  }

  /**
   * A plain secret (not `whsec_`), as seed 004 and many in-house senders configure one: its
   * UTF-8 bytes are the HMAC key. At least MIN_WEBHOOK_SECRET_BYTES bytes; the value is never echoed.
   * A Standard Webhooks receiver verifies it as `whsec_` + base64 of the same bytes.
   *
   * @example
   * WebhookSecret.fromRawKey('a-plain-shared-secret-of-32-bytes', 'OUTBOX_WEBHOOK_SECRET');
   */
  static fromRawKey(secret: string, field = 'secret'): WebhookSecret {
    const key = Buffer.from(secret, 'utf8');
    if (key.length < MIN_WEBHOOK_SECRET_BYTES) {
      throw new OutboxValidationError(
        field,
        `is a plain secret of ${key.length} bytes; it needs at least ${MIN_WEBHOOK_SECRET_BYTES} (or use "${WEBHOOK_SECRET_PREFIX}<base64>")`,
      );
    }
    return new WebhookSecret(key, secret);
  }

  /**
   * `whsec_<base64>` by `parse`, anything else as a plain secret by `fromRawKey`.
   *
   * @example
   * WebhookSecret.parseAny(process.env.OUTBOX_WEBHOOK_SECRET ?? '', 'OUTBOX_WEBHOOK_SECRET');
   */
  static parseAny(secret: string, field = 'secret'): WebhookSecret {
    return secret.startsWith(WEBHOOK_SECRET_PREFIX)
      ? WebhookSecret.parse(secret, field)
      : WebhookSecret.fromRawKey(secret, field);
  }

  /**
   * Validates one secret or a rotation list (newest first); at least one is required.
   *
   * @example
   * const secrets = WebhookSecret.parseList(['whsec_new...', 'whsec_old...']);
   */
  static parseList(secrets: unknown, field = 'secrets'): readonly WebhookSecret[] {
    const list = typeof secrets === 'string' ? [secrets] : secrets;
    if (!Array.isArray(list) || list.length === 0) {
      throw new OutboxValidationError(field, 'needs at least one "whsec_<base64>" secret');
    }
    return list.map((secret, i) =>
      WebhookSecret.parse(secret, typeof secrets === 'string' ? field : `${field}[${i}]`),
    );
  }

  /** The decoded key bytes: the HMAC key of Standard Webhooks signatures. */
  get key(): Buffer {
    return this.#key;
  }

  /**
   * The secret exactly as configured (`whsec_...`): the HMAC key of the Stripe- and
   * GitHub-style schemes, whose verifier libraries use the secret string as given.
   */
  get text(): string {
    return this.#text;
  }

  toJSON(): string {
    return '[redacted webhook secret]';
  }

  toString(): string {
    return '[redacted webhook secret]';
  }

  [inspect.custom](): string {
    return 'WebhookSecret [redacted]';
  }
}
