/**
 * Your own publisher in about 20 lines: deliver outbox messages to a Slack incoming webhook.
 * Throw TransientPublishError to retry later, PermanentPublishError to dead-letter now;
 * whatever publish() returns is stored in the row's `result` column.
 *
 * Run: DATABASE_URL=postgres://... SLACK_WEBHOOK_URL=https://hooks.slack.com/... npx tsx examples/custom-publisher.ts
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import {
  createRelay,
  type OutboxMessage,
  PermanentPublishError,
  type Publisher,
  type PublishContext,
  TransientPublishError,
} from '../src/index.js'; // in your app: from 'outbox-relay'

export class SlackPublisher implements Publisher {
  readonly name = 'slack';
  constructor(private readonly hookUrl: string) {}

  async publish(message: OutboxMessage, { signal }: PublishContext): Promise<{ status: number }> {
    const res = await fetch(this.hookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: `${message.type}: ${message.body}` }),
      signal, // aborted at the attempt deadline or when the relay stops
    });
    await res.arrayBuffer(); // drain, so the connection is reused
    if (res.status === 429 || res.status >= 500) {
      const retryAfterMs = Number(res.headers.get('retry-after')) * 1000 || undefined;
      throw new TransientPublishError(`slack answered ${res.status}`, { retryAfterMs });
    }
    if (!res.ok) throw new PermanentPublishError(`slack answered ${res.status}`);
    return { status: res.status };
  }
}

async function main(): Promise<void> {
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  // Messages added with destination 'slack' (or 'slack:<anything>') go to this publisher.
  const relay = createRelay({
    db,
    publishers: { slack: new SlackPublisher(process.env.SLACK_WEBHOOK_URL ?? '') },
  });
  relay.start();
  process.once('SIGTERM', () => void relay.stop().then(() => db.destroy()));
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
