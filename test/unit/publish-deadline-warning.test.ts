import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createRelay } from '../../src/core/relay/relay.js';
import { WebhookPublisher } from '../../src/publishers/webhook/webhook-publisher.js';
import { RecordingLogger } from '../support/recording-logger.js';

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
// Never connected: createRelay opens no connection until start() or runOnce().
const pool = new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none' });

function relayWarnings(options: { leaseMs: number; publishTimeoutMs?: number; hints?: object }): string[] {
  const logger = new RecordingLogger();
  const webhook = new WebhookPublisher({ url: 'https://hooks.example.com/', secrets: SECRET });
  createRelay({ db: pool, publishers: { webhook }, logger, ...options });
  return logger.at('warn').map((l) => l.msg);
}

describe('a publish deadline shorter than the publisher’s own timeout', () => {
  it('is warned about at creation, naming both times and the option to change', () => {
    expect(relayWarnings({ leaseMs: 500 })).toEqual([
      'publish deadline 250 ms (lease 500 ms) is shorter than publisher "webhook"\'s own timeout of 15000 ms: ' +
        'its slower attempts are cut at 250 ms (a lease of 30000 ms or more covers it): ' +
        'raise leaseMs, or set publishTimeoutMs (at most 90% of leaseMs)',
    ]);
  });

  it('speaks the binary’s language when the binary passes its hints', () => {
    const [line] = relayWarnings({ leaseMs: 500, hints: { publishDeadline: 'raise LEASE_MS' } });
    expect(line).toMatch(/: raise LEASE_MS$/);
  });

  it('stays quiet when the deadline covers the timeout (the default lease gives 30 s)', () => {
    expect(relayWarnings({ leaseMs: 60_000 })).toEqual([]);
    expect(relayWarnings({ leaseMs: 20_000, publishTimeoutMs: 15_000 })).toEqual([]);
  });
});
