/**
 * The columns of a message, declared once. The insert, the archive move (in the delivered
 * write-back and in cleanup), the operators' reads (`StoredMessage`) and their types all derive
 * from `MESSAGE_COLUMNS`; a column added here reaches every statement that copies a row.
 *
 * - `field`: the property of `StoredMessage` it fills.
 * - `insert`: the SQL type of the column in the producer's insert (arrays through unnest).
 * - `archived`: kept by `messages_archive` (migration 7); the archive keeps no status, lease,
 *   error or death, and shows them as the constants in `ARCHIVED_AS`.
 */
export const MESSAGE_COLUMNS = [
  { column: 'id', field: 'id', archived: true },
  { column: 'message_id', field: 'messageId', insert: 'uuid', archived: true },
  { column: 'kind', field: 'kind', insert: 'text', archived: true },
  { column: 'type', field: 'type', insert: 'text', archived: true },
  { column: 'destination', field: 'destination', insert: 'text', archived: true },
  { column: 'tenant_id', field: 'tenantId', insert: 'text', archived: true },
  { column: 'ordering_key', field: 'orderingKey', insert: 'text', archived: true },
  { column: 'payload', field: 'payload', insert: 'jsonb', archived: true },
  { column: 'headers', field: 'headers', insert: 'jsonb', archived: true },
  { column: 'status', field: 'status', archived: false },
  { column: 'attempts', field: 'attempts', archived: true },
  { column: 'max_attempts', field: 'maxAttempts', insert: 'int', archived: true },
  { column: 'last_error', field: 'lastError', archived: false },
  { column: 'dead_reason', field: 'deadReason', archived: false },
  { column: 'result', field: 'result', archived: true },
  { column: 'created_at', field: 'createdAt', archived: true },
  { column: 'available_at', field: 'availableAt', insert: 'timestamptz', archived: true },
  { column: 'delivered_at', field: 'deliveredAt', archived: true },
  { column: 'dead_at', field: 'deadAt', archived: false },
] as const;

type Column = (typeof MESSAGE_COLUMNS)[number];
/** A message column's name. */
export type MessageColumn = Column['column'];
/** The columns the producer inserts, in insert order. */
export type InsertColumn = Extract<Column, { insert: string }>['column'];

/** How archive rows show the columns the archive does not keep. */
const ARCHIVED_AS: Record<Extract<Column, { archived: false }>['column'], string> = {
  status: `'delivered'::text`,
  last_error: 'null::text',
  dead_reason: 'null::text',
  dead_at: 'null::timestamptz',
};

/** Columns of the producer's insert, with the SQL type each is cast to. */
export const INSERT_COLUMNS = MESSAGE_COLUMNS.filter(
  (c): c is Extract<Column, { insert: string }> => 'insert' in c,
);

/** Columns of `messages_archive`, in its column order. */
export const ARCHIVE_COLUMNS: readonly MessageColumn[] = MESSAGE_COLUMNS.filter((c) => c.archived).map(
  (c) => c.column,
);

/** Every column `toStoredMessage` reads, selected from `messages`. */
export const STORED_COLUMNS = MESSAGE_COLUMNS.map((c) => c.column).join(', ');

/** The same columns selected from `messages_archive`, the ones it does not keep as constants. */
export const STORED_ARCHIVE_COLUMNS = MESSAGE_COLUMNS.map((c) =>
  c.archived ? c.column : `${ARCHIVED_AS[c.column]} as ${c.column}`,
).join(', ');

/**
 * The archive insert's column list and the matching select list over a deleted row set: each
 * archive column as it is, unless `replace` gives an expression for it (the delivered
 * write-back's new result and delivery time).
 *
 * @example
 * const { into, select } = archiveCopy({ result: 'new_result' });
 * `insert into archive (${into}) select ${select} from d`
 */
export function archiveCopy(replace: Partial<Record<MessageColumn, string>> = {}): {
  into: string;
  select: string;
} {
  return {
    into: ARCHIVE_COLUMNS.join(', '),
    select: ARCHIVE_COLUMNS.map((c) => replace[c] ?? c).join(', '),
  };
}

/**
 * "Unfinished": neither delivered (a relay older than storage v2 may still mark a row delivered
 * in place) nor dead. Every partial index of storage v2 says exactly this, never `status`, so
 * every statement that wants unfinished rows says it through here to use them.
 *
 * @example
 * `select count(*) from messages m where ${unfinished('m')}`
 */
export function unfinished(alias?: string): string {
  const p = alias ? `${alias}.` : '';
  return `${p}delivered_at is null and ${p}dead_at is null`;
}

/**
 * The rows of one route, `p` being the SQL of a destination or route name: one range of
 * messages_route_v2_idx (split_part(destination, ':', 1), available_at, id).
 *
 * @example
 * `where ${routeRows('m', '$6')}` // every webhook:* row when $6 is 'webhook:acme'
 */
export function routeRows(m: string, p: string): string {
  return `split_part(${m}.destination, ':', 1) = split_part(${p}::text, ':', 1)`;
}

/**
 * The rows of one destination: its route's range of messages_route_v2_idx (`routeRows`), the
 * destination itself filtered in the heap.
 *
 * @example
 * `where ${destinationRows('m', '$6')}`
 */
export function destinationRows(m: string, p: string): string {
  return `${routeRows(m, p)} and ${m}.destination = ${p}::text`;
}
