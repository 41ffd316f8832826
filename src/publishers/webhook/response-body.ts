import type { Dispatcher } from 'undici';

/**
 * Quotes the start of a failing response's body for `last_error`, on one line.
 *
 * @example
 * quoteSnippet(Buffer.from('oops'), 4) // 'body "oops"'
 */
export function quoteSnippet(bytes: Buffer, total: number): string {
  if (total === 0) return 'empty body';
  // Control characters would break a one-line last_error; JSON.stringify escapes them.
  const text = JSON.stringify(bytes.toString('utf8'));
  return total > bytes.length ? `body ${text}… (${total}+ bytes)` : `body ${text}`;
}

/** What `drain` kept of a body: its first bytes and how many bytes there were. */
export interface DrainedBody {
  readonly head: Buffer;
  readonly total: number;
}

/**
 * Reads the body to reuse the keep-alive connection, keeping only the first `keep` bytes,
 * and destroys it after `max` bytes: a receiver cannot make us buffer a huge response.
 *
 * @example
 * const { head, total } = await drain(response.body, 256, 65_536);
 */
export async function drain(
  body: Dispatcher.ResponseData['body'],
  keep: number,
  max: number,
): Promise<DrainedBody> {
  const head: Buffer[] = [];
  let kept = 0;
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (kept < keep) {
      const part = chunk.subarray(0, keep - kept);
      head.push(part);
      kept += part.length;
    }
    total += chunk.length;
    if (total > max) {
      body.destroy();
      break;
    }
  }
  return { head: Buffer.concat(head), total };
}
