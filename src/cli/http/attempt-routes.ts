import { listAttempts } from '../../core/maintenance/attempts.js';
import { getMessageStory } from '../../core/maintenance/message-story.js';
import { OutboxValidationError } from '../../core/foundation/errors.js';
import { UsageError } from '../command.js';
import { describeState } from '../commands/format-story.js';
import { parseSince } from '../commands/parse-since.js';
import { send } from './http-io.js';
import type { Route } from './route.js';

/** A query parameter given once, or undefined. */
function param(query: URLSearchParams, name: string): string | undefined {
  return query.get(name) ?? undefined;
}

/** `since` as the CLI takes it (an age like `1h` or an ISO date); a bad one is a 400. */
function since(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  try {
    return parseSince(text);
  } catch (error) {
    if (error instanceof UsageError) throw new OutboxValidationError('since', error.message);
    throw error;
  }
}

/**
 * The attempt log and a message's story as JSON, for operators' scripts and the status page's
 * drill-down and search. Under `/api/`: with ADMIN_TOKEN set they answer 401 without it
 * (http-server.ts), like every other read of the API.
 * - `GET /api/attempts?message=<uuid>` | `?destination=<d>`, `&since=1h`, `&limit=50`
 * - `GET /api/messages/<id | message_id>`: the story without payload, headers and result, with
 *   `stateText` (where it is, in the words of `outbox-relay show`); 404 when it is not retained
 *
 * @example
 * findRoute(ATTEMPT_ROUTES, 'GET', '/api/attempts');
 */
export const ATTEMPT_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/api/attempts',
    async handle({ req, res, state }) {
      const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
      const limit = param(query, 'limit');
      const messageId = param(query, 'message');
      const destination = param(query, 'destination');
      const from = since(param(query, 'since'));
      if (limit !== undefined && !/^\d+$/.test(limit))
        throw new OutboxValidationError('limit', `must be a whole number, got ${JSON.stringify(limit)}`);
      const attempts = await listAttempts(state.db, {
        schema: state.schema,
        ...(limit !== undefined ? { limit: Number(limit) } : {}),
        ...(messageId !== undefined ? { messageId } : {}),
        ...(destination !== undefined ? { destination } : {}),
        ...(from ? { since: from } : {}),
      });
      send(res, 200, { attempts });
    },
  },
  {
    method: 'GET',
    path: /^\/api\/messages\/([^/]+)$/,
    async handle({ res, state, params }) {
      const story = await getMessageStory(state.db, params[0]!, { schema: state.schema });
      if (!story) return send(res, 404, { error: `no message with id or message_id "${params[0]}"` });
      // What the message says stays in the database: the page shows where it went, not what it carried.
      const { payload: _payload, headers: _headers, result: _result, ...message } = story.message;
      send(res, 200, { ...story, message, stateText: describeState(story.state) });
    },
  },
];
