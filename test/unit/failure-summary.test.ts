import { describe, expect, it } from 'vitest';
import { TransientPublishError } from '../../src/core/foundation/errors.js';
import { FailureSummary } from '../../src/core/relay/failure-summary.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { ManualClock } from '../support/recording-publisher.js';

function setup() {
  const logger = new RecordingLogger();
  const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
  return { logger, clock, summary: new FailureSummary({ logger, clock }) };
}

const down = new TransientPublishError('webhook to http://hooks.example.com/outbox answered 503: "busy"');

describe('FailureSummary', () => {
  it('says at once that a destination fails, then at most one summary per 30 s, then that it recovered', () => {
    const { logger, clock, summary } = setup();
    summary.failed('webhook', down);
    // A 30 s outage at 2.4 attempts per second: 71 more failures, no line until 30 s have passed.
    for (let i = 0; i < 71; i++) {
      clock.advance(420);
      summary.failed('webhook', down);
    }
    expect(logger.lines).toHaveLength(1);
    clock.advance(300); // 30.12 s after the first failure
    summary.failed('webhook', down);
    clock.advance(5_000);
    summary.delivered('webhook');
    expect(logger.lines.map((l) => [l.level, l.msg])).toEqual([
      [
        'warn',
        'webhook: an attempt failed, retrying (a summary follows every 30 s while attempts fail), last: ' +
          'webhook to http://hooks.example.com/outbox answered 503: "busy"',
      ],
      [
        'warn',
        'webhook: 72 attempts failed in the last 30 s, last: webhook to http://hooks.example.com/outbox answered 503: "busy"',
      ],
      ['info', 'webhook: delivering again after 73 failed attempts in 35 s'],
    ]);
    expect(logger.lines[1]?.fields).toMatchObject({ destination: 'webhook', failed: 72, periodMs: 30_120 });
  });

  it('keeps destinations apart, and a delivery to a healthy one says nothing', () => {
    const { logger, clock, summary } = setup();
    summary.delivered('webhook');
    summary.failed('routeros:tower-3', new Error('connect ECONNREFUSED'));
    summary.delivered('webhook');
    clock.advance(31_000);
    summary.failed('webhook', down);
    summary.failed('routeros:tower-3', new Error('connect ETIMEDOUT'));
    expect(logger.lines.map((l) => l.msg)).toEqual([
      expect.stringMatching(/^routeros:tower-3: an attempt failed, .*last: connect ECONNREFUSED$/),
      expect.stringMatching(/^webhook: an attempt failed/),
      'routeros:tower-3: 1 attempt failed in the last 31 s, last: connect ETIMEDOUT',
    ]);
  });

  it('starts over after a recovery', () => {
    const { logger, summary } = setup();
    summary.failed('webhook', down);
    summary.delivered('webhook');
    summary.failed('webhook', down);
    expect(logger.lines.map((l) => l.level)).toEqual(['warn', 'info', 'warn']);
  });
});
