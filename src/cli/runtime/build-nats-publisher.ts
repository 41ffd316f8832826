import { ConfigError, OutboxValidationError } from '../../core/foundation/errors.js';
import type { Logger } from '../../core/foundation/logger.js';
import type { Publisher } from '../../core/foundation/publisher.js';
import { type CliConfig, SETTINGS, type SettingKey } from '../config/settings.js';

/** The publisher option each NATS setting feeds, so a problem names the variable the user set. */
const ENV_OF_OPTION: Readonly<Record<string, SettingKey>> = {
  servers: 'natsServers',
  credsFile: 'natsCredsFile',
  nkeySeed: 'natsNkeySeed',
  token: 'natsToken',
  user: 'natsUser',
  pass: 'natsPassword',
  'tls.caFile': 'natsTlsCa',
  'tls.certFile': 'natsTlsCert',
  'tls.keyFile': 'natsTlsKey',
  subjectPrefix: 'natsSubjectPrefix',
  expectStream: 'natsExpectStream',
  timeoutMs: 'natsTimeoutMs',
};

/**
 * The NATS JetStream publisher from `NATS_*` settings. Its module (and the NATS client) loads
 * only here, when OUTBOX_PUBLISHER_TYPE includes nats. Problems found by the publisher's own
 * validation (an unreadable file, two authentication methods) name the variables.
 *
 * @example
 * const nats = await buildNatsPublisher(config, logger);
 */
export async function buildNatsPublisher(config: CliConfig, logger: Logger): Promise<Publisher> {
  const tls = {
    ...(config.natsTlsCa ? { caFile: config.natsTlsCa } : {}),
    ...(config.natsTlsCert ? { certFile: config.natsTlsCert } : {}),
    ...(config.natsTlsKey ? { keyFile: config.natsTlsKey } : {}),
  };
  const { NatsPublisher } = await import('../../publishers/nats/index.js');
  try {
    return new NatsPublisher({
      servers: config.natsServers ?? [],
      ...(config.natsCredsFile ? { credsFile: config.natsCredsFile } : {}),
      ...(config.natsNkeySeed ? { nkeySeed: config.natsNkeySeed } : {}),
      ...(config.natsToken ? { token: config.natsToken } : {}),
      ...(config.natsUser ? { user: config.natsUser, pass: config.natsPassword } : {}),
      ...(Object.keys(tls).length > 0 ? { tls } : {}),
      ...(config.natsExpectStream ? { expectStream: config.natsExpectStream } : {}),
      subjectPrefix: config.natsSubjectPrefix,
      bodyFormat: config.natsFormat,
      ...(config.cloudEventsSource ? { cloudEventsSource: config.cloudEventsSource } : {}),
      timeoutMs: config.natsTimeoutMs,
      connectionName: `outbox-relay ${config.workerId}`,
      logger: logger.child({ publisher: 'nats' }),
    });
  } catch (error) {
    if (!(error instanceof OutboxValidationError)) throw error;
    const key = ENV_OF_OPTION[error.field];
    const name =
      key !== undefined
        ? SETTINGS[key].env
        : error.field === 'credentials'
          ? 'NATS_CREDS_FILE / NATS_NKEY_SEED / NATS_TOKEN / NATS_USER'
          : error.field;
    throw new ConfigError([`${name}: ${error.reason}`]);
  }
}
