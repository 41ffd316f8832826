import { timingSafeEqual } from 'node:crypto';
import { type Clock, SYSTEM_CLOCK } from '../../core/foundation/clock.js';
import { OutboxError } from '../../core/foundation/errors.js';
import {
  DEFAULT_SIGNATURE_HEADERS,
  githubSignature,
  type SignatureScheme,
  type SignInput,
  standardSignature,
  stripeSignature,
} from './sign.js';
import { WebhookSecret } from './webhook-secret.js';

/** Standard Webhooks' recommended replay window. */
export const DEFAULT_WEBHOOK_TOLERANCE_SECONDS = 5 * 60;

/** Why a webhook failed verification; stable, for receivers that answer differently per reason. */
export type WebhookVerificationReason =
  | 'missing_header'
  | 'invalid_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_too_new'
  | 'no_matching_signature';

/**
 * A received webhook is not authentic (or too old/new to trust). The message says which
 * check failed, never a secret or the expected signature.
 *
 * @example
 * try { verifyWebhook({ headers: req.headers, body, secrets }); }
 * catch (e) { if (e instanceof WebhookVerificationError) return res.writeHead(400).end(e.reason); throw e; }
 */
export class WebhookVerificationError extends OutboxError {
  readonly reason: WebhookVerificationReason;

  constructor(reason: WebhookVerificationReason, message: string) {
    super('WEBHOOK_VERIFICATION_FAILED', message);
    this.reason = reason;
  }
}

/** Request headers as node:http (`req.headers`), fetch (`Headers`) or a plain object give them. */
export type WebhookHeaders =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | undefined>>;

/** What `verifyWebhook` checks. */
export interface VerifyWebhookOptions {
  readonly headers: WebhookHeaders;
  /** The raw request body exactly as received: verify before any JSON parsing. */
  readonly body: string | Uint8Array;
  /** `whsec_...` secrets; any one of them signing the request is enough (rotation). */
  readonly secrets: string | readonly (string | WebhookSecret)[];
  /** Replay window either side of the clock's now; default 300. Not applicable to the GitHub scheme. */
  readonly toleranceSeconds?: number;
  /** The receiver's time source; default the wall clock. */
  readonly clock?: Clock;
  /** Which signature scheme the sender used; default `standard`. */
  readonly scheme?: SignatureScheme;
  /** Header carrying the signature, when the sender was configured with a custom one. */
  readonly signatureHeader?: string;
}

/** A verified webhook's identity. */
export interface VerifiedWebhook {
  /** `webhook-id`, the idempotency key to deduplicate on (undefined if the sender sent none). */
  readonly id: string | undefined;
  /** The signed attempt time in unix seconds (undefined for the GitHub scheme, which signs none). */
  readonly timestamp: number | undefined;
}

/**
 * What the standard scheme verified: it refuses a request without `webhook-id` or
 * `webhook-timestamp`, so both are always there.
 */
export interface StandardVerifiedWebhook extends VerifiedWebhook {
  readonly id: string;
  readonly timestamp: number;
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  let value = record[name];
  if (value === undefined) {
    const key = Object.keys(record).find((k) => k.toLowerCase() === name);
    value = key === undefined ? undefined : record[key];
  }
  return Array.isArray(value) ? value.join(' ') : (value as string | undefined);
}

function required(headers: WebhookHeaders, name: string): string {
  const value = header(headers, name);
  if (!value) throw new WebhookVerificationError('missing_header', `missing ${name} header`);
  return value;
}

function checkTimestamp(text: string, now: Date, toleranceSeconds: number): number {
  if (!/^\d{1,15}$/.test(text)) {
    throw new WebhookVerificationError('invalid_timestamp', 'timestamp is not unix seconds');
  }
  const timestamp = Number(text);
  const nowSeconds = Math.floor(now.getTime() / 1000);
  if (nowSeconds - timestamp > toleranceSeconds) {
    throw new WebhookVerificationError(
      'timestamp_too_old',
      `timestamp is ${nowSeconds - timestamp}s old, more than the ${toleranceSeconds}s tolerance`,
    );
  }
  if (timestamp - nowSeconds > toleranceSeconds) {
    throw new WebhookVerificationError(
      'timestamp_too_new',
      `timestamp is ${timestamp - nowSeconds}s in the future, more than the ${toleranceSeconds}s tolerance`,
    );
  }
  return timestamp;
}

/** Compares decoded bytes in constant time; lengths are public (HMAC-SHA256 is always 32 bytes). */
function matches(expected: Buffer, candidate: Buffer): boolean {
  return candidate.length === expected.length && timingSafeEqual(candidate, expected);
}

/** Whether any received signature is the one any of the secrets makes (rotation: several secrets). */
function signedByAny(
  secrets: readonly WebhookSecret[],
  candidates: readonly Buffer[],
  expected: (secret: WebhookSecret) => Buffer,
): boolean {
  return secrets.some((secret) => {
    const signature = expected(secret);
    return candidates.some((candidate) => matches(signature, candidate));
  });
}

function fromBase64(text: string): Buffer | undefined {
  return /^[A-Za-z0-9+/]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : undefined;
}

function fromHex(text: string): Buffer | undefined {
  return /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : undefined;
}

/**
 * Verifies a received webhook for receivers: the signature (constant-time, any of the
 * space-separated signatures against any of the secrets) and the timestamp's replay window.
 * Throws `WebhookVerificationError` naming the failed check; returns the webhook's id.
 *
 * @example
 * const raw = await readRawBody(req); // a string or Buffer, before JSON.parse
 * const { id } = verifyWebhook({ headers: req.headers, body: raw, secrets: ['whsec_...'] });
 * if (await seen(id)) return res.writeHead(200).end(); // deduplicate on webhook-id
 */
export function verifyWebhook(
  options: VerifyWebhookOptions & { readonly scheme?: 'standard' },
): StandardVerifiedWebhook;
export function verifyWebhook(options: VerifyWebhookOptions): VerifiedWebhook;
export function verifyWebhook(options: VerifyWebhookOptions): VerifiedWebhook {
  const scheme = options.scheme ?? 'standard';
  const tolerance = options.toleranceSeconds ?? DEFAULT_WEBHOOK_TOLERANCE_SECONDS;
  const now = (options.clock ?? SYSTEM_CLOCK).now();
  const secrets = (typeof options.secrets === 'string' ? [options.secrets] : options.secrets).map((s, i) =>
    s instanceof WebhookSecret ? s : WebhookSecret.parse(s, `secrets[${i}]`),
  );
  const signatureHeader = (options.signatureHeader ?? DEFAULT_SIGNATURE_HEADERS[scheme]).toLowerCase();
  const signatures = required(options.headers, signatureHeader);
  const body = options.body;

  if (scheme === 'standard') {
    const id = required(options.headers, 'webhook-id');
    const timestamp = checkTimestamp(required(options.headers, 'webhook-timestamp'), now, tolerance);
    const input: SignInput = { id, timestamp, body };
    const candidates = signatures
      .split(' ')
      .filter((s) => s.startsWith('v1,'))
      .map((s) => fromBase64(s.slice(3)))
      .filter((b): b is Buffer => b !== undefined);
    const expected = (secret: WebhookSecret) => Buffer.from(standardSignature(secret, input), 'base64');
    if (signedByAny(secrets, candidates, expected)) return { id, timestamp };
  } else if (scheme === 'stripe') {
    const parts = signatures.split(',').map((part) => part.trim());
    const t = parts.find((p) => p.startsWith('t='))?.slice(2);
    if (t === undefined)
      throw new WebhookVerificationError('invalid_timestamp', `${signatureHeader} has no t=`);
    const timestamp = checkTimestamp(t, now, tolerance);
    const id = header(options.headers, 'webhook-id');
    const input: SignInput = { id: id ?? '', timestamp, body };
    const candidates = parts
      .filter((p) => p.startsWith('v1='))
      .map((p) => fromHex(p.slice(3)))
      .filter((b): b is Buffer => b !== undefined);
    const expected = (secret: WebhookSecret) => Buffer.from(stripeSignature(secret, input), 'hex');
    if (signedByAny(secrets, candidates, expected)) return { id, timestamp };
  } else {
    const candidate = signatures.startsWith('sha256=') ? fromHex(signatures.slice(7)) : undefined;
    const id = header(options.headers, 'webhook-id');
    const input: SignInput = { id: id ?? '', timestamp: 0, body };
    const expected = (secret: WebhookSecret) => Buffer.from(githubSignature(secret, input), 'hex');
    if (signedByAny(secrets, candidate ? [candidate] : [], expected)) return { id, timestamp: undefined };
  }
  throw new WebhookVerificationError('no_matching_signature', 'no signature matches any of the secrets');
}
