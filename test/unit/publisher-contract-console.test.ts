import { NOOP_LOGGER } from '../../src/core/foundation/logger.js';
import { ConsolePublisher } from '../../src/publishers/console/console-publisher.js';
import { publisherContract } from '../support/publisher-contract.js';

// The console publisher cannot fail or hang on its own: only the scenarios it can produce run.
publisherContract('console', () => ({ publisher: new ConsolePublisher({ logger: NOOP_LOGGER }) }), {
  without: ['failTransiently', 'failPermanently', 'hang'],
});
