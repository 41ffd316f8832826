import { createHmac } from 'node:crypto';
import type { WebhookSecret } from './webhook-secret.js';

/**
 * How a webhook is signed.
 * - `standard`: Standard Webhooks v1 (`webhook-signature: v1,<base64>` over `id.timestamp.body`).
 * - `stripe`: `t=<timestamp>,v1=<hex>` over `timestamp.body`, as Stripe's verifier expects.
 * - `github`: `sha256=<hex>` over the body only, as GitHub's `X-Hub-Signature-256`.
 */
export type SignatureScheme = (typeof SIGNATURE_SCHEMES)[number];

/** Every scheme `signWebhook` knows, in the order help texts list them. */
export const SIGNATURE_SCHEMES = ['standard', 'stripe', 'github'] as const;

/** The header each scheme is sent in unless the publisher is told otherwise. */
export const DEFAULT_SIGNATURE_HEADERS: Readonly<Record<SignatureScheme, string>> = {
  standard: 'webhook-signature',
  stripe: 'stripe-signature',
  github: 'x-hub-signature-256',
};

/** What gets signed: the message id, the attempt's unix seconds and the exact body bytes sent. */
export interface SignInput {
  readonly id: string;
  /** Unix seconds of this attempt. */
  readonly timestamp: number;
  readonly body: string | Uint8Array;
}

function hmac(key: Buffer | string, ...parts: (string | Uint8Array)[]): Buffer {
  const mac = createHmac('sha256', key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/**
 * One Standard Webhooks v1 signature (`<base64>` without the `v1,` prefix).
 *
 * @example
 * standardSignature(secret, { id: 'msg_1', timestamp: 1614265330, body: '{}' }) // 'g0hM...'
 */
export function standardSignature(secret: WebhookSecret, input: SignInput): string {
  return hmac(secret.key, `${input.id}.${input.timestamp}.`, input.body).toString('base64');
}

/**
 * One Stripe-style signature (hex) over `timestamp.body`, keyed by the secret string as given.
 *
 * @example
 * stripeSignature(secret, { id: 'msg_1', timestamp: 1614265330, body: '{}' }) // '5f3a...'
 */
export function stripeSignature(secret: WebhookSecret, input: SignInput): string {
  return hmac(secret.text, `${input.timestamp}.`, input.body).toString('hex');
}

/**
 * One GitHub-style signature (hex) over the body alone, keyed by the secret string as given.
 *
 * @example
 * githubSignature(secret, { id: 'msg_1', timestamp: 1614265330, body: '{}' }) // '9c1e...'
 */
export function githubSignature(secret: WebhookSecret, input: SignInput): string {
  return hmac(secret.text, input.body).toString('hex');
}

/**
 * The signature header value of a scheme, with one signature per secret where the scheme
 * allows several (rotation): receivers holding either the old or the new secret verify.
 * GitHub-style carries one signature only, made with the first (current) secret.
 *
 * @example
 * signWebhook('standard', secrets, { id: message.messageId, timestamp: 1614265330, body: message.body })
 * // 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1,...'
 */
export function signWebhook(
  scheme: SignatureScheme,
  secrets: readonly WebhookSecret[],
  input: SignInput,
): string {
  switch (scheme) {
    case 'standard':
      return secrets.map((secret) => `v1,${standardSignature(secret, input)}`).join(' ');
    case 'stripe':
      return [
        `t=${input.timestamp}`,
        ...secrets.map((secret) => `v1=${stripeSignature(secret, input)}`),
      ].join(',');
    case 'github':
      return `sha256=${githubSignature(secrets[0]!, input)}`;
  }
}
