import { createHash, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { OutboxValidationError } from '../../core/foundation/errors.js';

/** Largest admin request body accepted. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * Compares a presented bearer token with the configured one in constant time. Both are
 * hashed first so the comparison never leaks the token's length either.
 *
 * @example
 * tokenMatches('Bearer s3cret-token-123456', 's3cret-token-123456') // true
 */
export function tokenMatches(authorization: string | undefined, token: string): boolean {
  const presented = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1]?.trim() ?? '';
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b) && presented.length > 0;
}

/**
 * Writes a whole response: JSON unless `body` is already text, never cached.
 *
 * @example
 * send(res, 404, { error: 'not found' });
 */
export function send(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  contentType = 'application/json',
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' }).end(text);
}

/**
 * Reads a JSON object body of at most MAX_BODY_BYTES (an empty body is `{}`); anything else is
 * an `OutboxValidationError` naming `body`, answered 400.
 *
 * @example
 * const body = await readJson(req);
 */
export async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new OutboxValidationError('body', `must be at most ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new OutboxValidationError('body', 'must be JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new OutboxValidationError('body', 'must be a JSON object');
  return body as Record<string, unknown>;
}
