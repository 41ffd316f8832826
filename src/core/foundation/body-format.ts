import { OutboxValidationError } from './errors.js';
import type { OutboxMessage } from './message.js';

/**
 * What a publisher sends as the body of a message:
 * - `payload`: the payload exactly as stored (the default; nothing is re-serialized).
 * - `envelope`: seed 004's `{ id, type, aggregateType, aggregateId, payload, occurredAt }`.
 * - `cloudevents`: a CloudEvents 1.0 event in structured JSON mode (`application/cloudevents+json`).
 */
export const BODY_FORMATS = ['payload', 'envelope', 'cloudevents'] as const;
/** One of `BODY_FORMATS`. */
export type BodyFormat = (typeof BODY_FORMATS)[number];

/** Message headers that set the envelope's aggregate fields (and the CloudEvents `subject`). */
export const AGGREGATE_TYPE_HEADER = 'aggregate-type';
/** See `AGGREGATE_TYPE_HEADER`. */
export const AGGREGATE_ID_HEADER = 'aggregate-id';

/** The CloudEvents `source` when none is configured (a URI-reference, as the spec asks). */
export const DEFAULT_CLOUDEVENTS_SOURCE = '/outbox-relay';

/** A body ready to send and sign. */
export interface FormattedBody {
  readonly body: string;
  readonly contentType: string;
}

/** How `formatBody` builds the non-default formats. */
export interface BodyFormatOptions {
  /** CloudEvents `source`; default `DEFAULT_CLOUDEVENTS_SOURCE`. */
  readonly cloudEventsSource?: string;
}

/**
 * The aggregate a message belongs to: its `aggregate-type` / `aggregate-id` headers, else the
 * type's prefix before the first `.` (`invoice.paid` -> `invoice`) and the ordering key.
 *
 * @example
 * aggregateOf(message) // { type: 'invoice', id: 'inv_42' }
 */
export function aggregateOf(message: OutboxMessage): { type: string | null; id: string | null } {
  const header = (name: string) => message.headers[name] ?? undefined;
  const dot = message.type.indexOf('.');
  return {
    type: header(AGGREGATE_TYPE_HEADER) ?? (dot > 0 ? message.type.slice(0, dot) : null),
    id: header(AGGREGATE_ID_HEADER) ?? message.orderingKey,
  };
}

const json = JSON.stringify;

/**
 * The body of `message` in `format`. The stored payload text is spliced in as is (never parsed
 * and re-serialized), and `payload` returns `message.body` itself: the default path costs nothing.
 *
 * @example
 * formatBody(message, 'cloudevents', { cloudEventsSource: '/billing' }).contentType // 'application/cloudevents+json'
 */
export function formatBody(
  message: OutboxMessage,
  format: BodyFormat,
  options: BodyFormatOptions = {},
): FormattedBody {
  if (format === 'payload') return { body: message.body, contentType: 'application/json' };
  const aggregate = aggregateOf(message);
  const time = message.createdAt.toISOString();
  if (format === 'envelope') {
    return {
      body: `{"id":${json(message.messageId)},"type":${json(message.type)},"aggregateType":${json(aggregate.type)},"aggregateId":${json(aggregate.id)},"payload":${message.body},"occurredAt":${json(time)}}`,
      contentType: 'application/json',
    };
  }
  const source = options.cloudEventsSource ?? DEFAULT_CLOUDEVENTS_SOURCE;
  const subject = aggregate.id === null ? '' : `,"subject":${json(aggregate.id)}`;
  const tenant = message.tenantId === null ? '' : `,"tenantid":${json(message.tenantId)}`;
  return {
    body: `{"specversion":"1.0","id":${json(message.messageId)},"source":${json(source)},"type":${json(message.type)},"time":${json(time)}${subject}${tenant},"datacontenttype":"application/json","data":${message.body}}`,
    contentType: 'application/cloudevents+json',
  };
}

/**
 * Checks a publisher's `bodyFormat` option; undefined means `payload`.
 *
 * @example
 * parseBodyFormat(options.bodyFormat, 'bodyFormat') // 'payload'
 */
export function parseBodyFormat(value: unknown, field: string): BodyFormat {
  if (value === undefined) return 'payload';
  const found = BODY_FORMATS.find((f) => f === value);
  if (!found)
    throw new OutboxValidationError(field, `must be one of ${BODY_FORMATS.join(', ')}, got ${json(value)}`);
  return found;
}
