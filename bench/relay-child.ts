/**
 * One relay process for the scale scenario: connects, says "ready", starts on "go", and on
 * "stop" stops and reports how many messages it delivered and when (wall clock) the last one was.
 * Run by bench/scale.ts: node --import tsx bench/relay-child.ts <url> <schema>
 */
import { NOOP_LOGGER } from '../src/core/foundation/logger.js';
import { createRelay } from '../src/core/relay/relay.js';
import { benchPool } from './support/bench-pool.js';
import { noopPublisher } from './support/noop-publisher.js';

const [url = '', schema = ''] = process.argv.slice(2);
const pool = benchPool(url, 4);
const relay = createRelay({ db: pool, schema, publishers: { noop: noopPublisher() }, logger: NOOP_LOGGER });
let delivered = 0;
let lastDeliveredAt = 0;
relay.on('delivered', () => {
  delivered++;
  lastDeliveredAt = Date.now();
});
await pool.query('select 1');
process.on('message', async (m) => {
  if (m === 'go') relay.start();
  if (m === 'stop') {
    await relay.stop();
    await pool.end();
    process.send?.({ delivered, lastDeliveredAt }, () => process.exit(0));
  }
});
process.send?.('ready');
