import type { Logger } from '../../core/foundation/logger.js';
import type { Publisher } from '../../core/foundation/publisher.js';
import type { Relay } from '../../core/relay/index.js';
import type { CliConfig } from '../config/settings.js';

/** What `attachRelayHooks` attached; `detach` before the relay is dropped. */
export interface RelayHooks {
  detach(): void;
}

/**
 * The binary's listeners on a relay it created (`start`, `run`, the relay job): today the
 * copy of each dead message to NATS_DEAD_LETTER_SUBJECT. The NATS module loads only when that
 * is set; the checks of the settings made sure the nats publisher is among `publishers`.
 *
 * @example
 * const hooks = await attachRelayHooks(relay, publishers, config, logger);
 */
export async function attachRelayHooks(
  relay: Relay,
  publishers: Record<string, Publisher>,
  config: CliConfig,
  logger: Logger,
): Promise<RelayHooks> {
  const subject = config.natsDeadLetterSubject;
  if (subject === undefined) return { detach() {} };
  const nats = await import('../../publishers/nats/index.js');
  const publisher = publishers.nats;
  if (!(publisher instanceof nats.NatsPublisher)) return { detach() {} };
  const forwarder = nats.forwardDeadLetters(relay, publisher, { subject, logger });
  return { detach: () => forwarder.detach() };
}
