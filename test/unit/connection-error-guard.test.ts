import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { guardConnectionErrors } from '../../src/core/foundation/connection-error-guard.js';
import { createRelay } from '../../src/core/relay/relay.js';
import { ConsolePublisher } from '../../src/publishers/console/console-publisher.js';
import { RecordingLogger } from '../support/recording-logger.js';

// Never connected: nothing here opens a connection.
const unreachable = () => new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none' });

describe('guardConnectionErrors', () => {
  it('turns a pool’s error event into a warn line, attaching its listeners once however often handed', () => {
    const pool = unreachable();
    const logger = new RecordingLogger();
    expect(guardConnectionErrors(pool, logger)).toBe(true);
    expect(guardConnectionErrors(pool, logger)).toBe(true);
    expect(pool.listenerCount('error')).toBe(1);
    expect(pool.listenerCount('connect')).toBe(1);
    // What pg-pool's idleListener does when PostgreSQL ends an idle connection.
    pool.emit('error', new Error('terminating connection due to administrator command'));
    expect(logger.at('warn').map((l) => l.msg)).toEqual([
      'an idle database connection failed (terminated backend, restart or failover); the pool opens a new one when needed',
    ]);
  });

  it('is attached by createRelay to the pg Pool it is given', () => {
    const pool = unreachable();
    createRelay({ db: pool, publishers: { default: new ConsolePublisher() }, logger: new RecordingLogger() });
    createRelay({ db: pool, publishers: { default: new ConsolePublisher() }, logger: new RecordingLogger() });
    expect(pool.listenerCount('error')).toBe(1);
  });

  it('says it cannot reach the pool inside a kysely instance', () => {
    const pool = unreachable();
    const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
    expect(guardConnectionErrors(db, new RecordingLogger())).toBe(false);
    expect(pool.listenerCount('error')).toBe(0);
  });
});
