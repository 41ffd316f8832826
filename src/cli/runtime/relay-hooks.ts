import type { Logger } from '../../core/foundation/logger.js';
import type { Publisher } from '../../core/foundation/publisher.js';
import type { DestinationPauseInfo, Relay } from '../../core/relay/index.js';
import type { CliConfig } from '../config/settings.js';

/** What `attachRelayHooks` attached; `detach` before the relay is dropped. */
export interface RelayHooks {
  detach(): void;
}

/**
 * The binary's listeners on a relay it created (`start`, `run`, the relay job): a log line for
 * each pause, resume, breaker opening and closing of a destination it sees, and the copy of each dead message to
 * NATS_DEAD_LETTER_SUBJECT. The NATS module loads only when that
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
  const paused = (info: DestinationPauseInfo) =>
    logger.warn(
      { destination: info.destination, reason: info.reason, until: info.until },
      'destination paused: no relay sends to it until it is resumed',
    );
  const resumed = (info: { destination: string }) =>
    logger.info({ destination: info.destination }, 'destination resumed');
  const opened = (info: { destination: string; probeAt: Date | null }) =>
    logger.warn(
      { destination: info.destination, probeAt: info.probeAt },
      'destination circuit breaker open: its messages wait, one probe per interval',
    );
  const closed = (info: { destination: string }) =>
    logger.info({ destination: info.destination }, 'destination circuit breaker closed');
  relay.on('destination.paused', paused);
  relay.on('destination.resumed', resumed);
  relay.on('destination.opened', opened);
  relay.on('destination.closed', closed);
  const pauses = () => {
    relay.off('destination.paused', paused);
    relay.off('destination.resumed', resumed);
    relay.off('destination.opened', opened);
    relay.off('destination.closed', closed);
  };
  const subject = config.natsDeadLetterSubject;
  if (subject === undefined) return { detach: pauses };
  const nats = await import('../../publishers/nats/index.js');
  const publisher = publishers.nats;
  if (!(publisher instanceof nats.NatsPublisher)) return { detach: pauses };
  const forwarder = nats.forwardDeadLetters(relay, publisher, { subject, logger });
  return {
    detach: () => {
      pauses();
      forwarder.detach();
    },
  };
}
