import type { AttemptRow, MessageState, MessageStory } from '../../core/maintenance/index.js';
import { formatTable } from './format-table.js';

/** Longest detail (response head or error) shown per attempt in a table; `--json` has it all. */
const DETAIL_CHARS = 200;

/**
 * The attempt log's rows as an aligned table: when, message, destination, attempt, outcome,
 * HTTP status, error code, duration, relay and the head of the detail.
 *
 * @example
 * ctx.stdout.write(formatAttempts(await listAttempts(db, { destination: 'webhook' })));
 */
export function formatAttempts(rows: readonly AttemptRow[]): string {
  return formatTable([
    ['at', 'message_id', 'destination', 'attempt', 'outcome', 'status', 'code', 'ms', 'relay', 'detail'],
    ...rows.map((a) => [
      a.at.toISOString(),
      a.messageId,
      a.destination,
      String(a.attempt),
      a.outcome,
      a.statusCode === null ? '-' : String(a.statusCode),
      a.errorCode ?? '-',
      a.durationMs.toFixed(1),
      a.workerId ?? '-',
      (a.detail ?? '').replace(/\s+/g, ' ').slice(0, DETAIL_CHARS),
    ]),
  ]);
}

/**
 * Where a message is, in one line.
 *
 * @example
 * describeState({ kind: 'in_flight', workerId: 'relay-a', leaseUntil }) // 'in flight on relay relay-a (lease until ...)'
 */
export function describeState(state: MessageState): string {
  switch (state.kind) {
    case 'delivered':
      return `delivered at ${state.at.toISOString()}`;
    case 'dead':
      return `dead since ${state.at?.toISOString() ?? '?'} because ${state.reason ?? 'unknown'}: ${state.error ?? ''}`;
    case 'in_flight':
      return `in flight on relay ${state.workerId ?? '?'} (lease until ${state.leaseUntil?.toISOString() ?? '?'})`;
    case 'blocked':
      return `${state.parked ? 'parked' : 'waiting'} behind key ${JSON.stringify(state.key)}: message ${state.behindMessageId} (id ${state.behindId}) must finish first`;
    case 'waiting':
      return `waiting: due at ${state.availableAt.toISOString()}${state.lastError ? ` (last error: ${state.lastError})` : ''}`;
  }
}

/**
 * A message's story as text: the message, where it is, its trace id, and its attempts.
 *
 * @example
 * ctx.stdout.write(formatStory(await getMessageStory(db, id)));
 */
export function formatStory(story: MessageStory): string {
  const m = story.message;
  const lines = [
    `message   ${m.messageId} (id ${m.id})`,
    `type      ${m.type}`,
    `dest      ${m.destination}`,
    `key       ${m.orderingKey ?? '-'}`,
    `tenant    ${m.tenantId ?? '-'}`,
    `created   ${m.createdAt.toISOString()}`,
    `attempts  ${m.attempts} of ${m.maxAttempts}`,
    `trace id  ${story.traceId ?? '-'}`,
    `now       ${describeState(story.state)}`,
    '',
  ];
  lines.push(
    story.attempts.length === 0
      ? 'no attempts in the attempt log (ATTEMPT_LOG=failures logs failed attempts only; off logs none)\n'
      : `attempt log:\n${formatAttempts(story.attempts)}`,
  );
  return lines.join('\n');
}
