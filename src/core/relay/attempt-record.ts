import { storableText } from '../foundation/storable.js';
import type { Outcome } from './publish-attempt.js';
import { type AttemptRecord, MAX_ATTEMPT_DETAIL_BYTES } from '../store/index.js';

/** What the relay writes to the attempt log: `failures` (default), `all` attempts, or nothing. */
export type AttemptLogMode = 'failures' | 'all' | 'off';

/** Every mode, for validation and the binary's ATTEMPT_LOG setting. */
export const ATTEMPT_LOG_MODES: readonly AttemptLogMode[] = ['failures', 'all', 'off'];

/** The default: failed attempts are the ones an operator looks for; delivered ones cost rows. */
export const DEFAULT_ATTEMPT_LOG: AttemptLogMode = 'failures';

/** The publish error codes that only say "transient" or "permanent": a cause's code says more. */
const GENERIC_CODES = new Set(['PUBLISH_TRANSIENT', 'PUBLISH_PERMANENT']);

function causes(error: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e = error, depth = 0; e && depth < 6; e = (e as { cause?: unknown }).cause, depth++) out.push(e);
  return out;
}

function httpStatus(value: unknown): number | null {
  const status = (value as { status?: unknown } | null | undefined)?.status;
  return typeof status === 'number' && Number.isInteger(status) && status >= 100 && status <= 599
    ? status
    : null;
}

/**
 * The most specific error code in `error`'s cause chain (`ECONNREFUSED` under a
 * `PUBLISH_TRANSIENT`), else its own, else null.
 *
 * @example
 * errorCode(new TransientPublishError('down', { cause: Object.assign(new Error(), { code: 'ECONNREFUSED' }) })) // 'ECONNREFUSED'
 */
export function errorCode(error: unknown): string | null {
  const codes = causes(error)
    .map((e) => (e as { code?: unknown }).code)
    .filter((c): c is string | number => typeof c === 'string' || typeof c === 'number')
    .map(String);
  return codes.find((c) => !GENERIC_CODES.has(c)) ?? codes[0] ?? null;
}

/**
 * The attempt log's view of a finished attempt: its outcome, age, duration, the HTTP status
 * (a webhook's `{ status }` result, or the `status` of a publish error), the error code and the
 * first MAX_ATTEMPT_DETAIL_BYTES of its reason (which holds the response body's head).
 *
 * @example
 * const record = attemptRecord(outcome, performance.now());
 */
export function attemptRecord(
  x: Extract<Outcome, { kind: 'delivered' | 'failed' }>,
  nowMs: number,
): AttemptRecord {
  const timing = { agoMs: Math.max(0, nowMs - x.startedAt), durationMs: x.durationMs };
  if (x.kind === 'delivered') {
    return {
      outcome: 'delivered',
      ...timing,
      statusCode: httpStatus(x.result),
      errorCode: null,
      detail: null,
    };
  }
  return {
    outcome: x.permanent ? 'permanent' : 'transient',
    ...timing,
    statusCode:
      causes(x.error)
        .map(httpStatus)
        .find((s) => s !== null) ?? null,
    errorCode: x.unroutable ? 'UNROUTABLE' : errorCode(x.error),
    detail: storableText(x.reason, MAX_ATTEMPT_DETAIL_BYTES),
  };
}
