import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { createTestDatabase, type TestDatabase } from './database.js';

/**
 * The hooks the flow-control tests share (destinations, limits, circuit breaker): one database
 * for the file; before each test its messages, archive and `tables` emptied and a fresh receiver;
 * after each, the registered cleanups (newest first), then the receiver closed. The database and
 * receiver reach the file through `use`; the returned array takes cleanups (a relay's stop).
 *
 * @example
 * let t: TestDatabase; let receiver: WebhookReceiver;
 * const cleanups = destinationTestBed({ tables: ['destinations'], startReceiver: startWebhookReceiver,
 *   use: (db, r) => { t = db; receiver = r; } });
 */
export function destinationTestBed<R extends { close(): Promise<void> }>(options: {
  /** Tables emptied with the messages before each test. */
  tables: readonly string[];
  startReceiver: () => Promise<R>;
  /** Called with the file's database (receiver undefined) and again before each test with both. */
  use: (db: TestDatabase, receiver: R | undefined) => void;
}): (() => Promise<void>)[] {
  const cleanups: (() => Promise<void>)[] = [];
  let db: TestDatabase | undefined;
  let receiver: R | undefined;
  beforeAll(async () => {
    db = await createTestDatabase({ poolSize: 20 });
    options.use(db, undefined);
  });
  afterAll(() => db?.close());
  beforeEach(async () => {
    const s = `"${db!.schema}"`;
    await db!.pool.query(
      `truncate ${[`${s}.messages`, `${s}.messages_archive`, ...options.tables.map((x) => `${s}.${x}`)].join(', ')}`,
    );
    receiver = await options.startReceiver();
    options.use(db!, receiver);
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await receiver?.close();
  });
  return cleanups;
}
