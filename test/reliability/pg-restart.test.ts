import { expect, it } from 'vitest';
import { report } from './harness.js';
import { pgRestartScenario } from './scenarios/pg-restart.js';

it('loses nothing when PostgreSQL restarts (while the binary starts, fast, immediate) mid-run, and relay and producer pools recover in place', async () => {
  const r = await pgRestartScenario({
    producers: 6,
    messagesPerProducer: 400,
    restarts: 2,
    restartWhileBinaryStarts: true,
  });
  report(r.figures, `(restarts: ${r.restarts.join(', ')}; ${r.producerErrors} producer transactions failed)`);
  expect(r.restarts).toEqual(['while the binary starts', 'fast', 'immediate']);
  expect(r.problems).toEqual([]);
  expect(r.binaryExit).toBe(0);
}, 300_000);
