import { ConfigError, OutboxError } from '../../core/foundation/errors.js';
import type { Logger } from '../../core/foundation/logger.js';
import type { Queryable } from '../../core/foundation/queryable.js';
import { ConsolePublisher } from '../../publishers/console/console-publisher.js';
import type { Publisher } from '../../core/foundation/publisher.js';
import { buildNatsPublisher } from './build-nats-publisher.js';
import { type CliConfig, type PublisherType, SETTINGS } from '../config/settings.js';

/**
 * Builds the publishers named by OUTBOX_PUBLISHER_TYPE, keyed by route: each under its own
 * name (`webhook`, `routeros`...), and the first one also under `default`, the destination
 * `outbox.add` uses when none is given. Bad publisher settings become a `ConfigError`
 * naming the variable, before any database work.
 *
 * @example
 * const publishers = await buildPublishers(config, { logger, db });
 * createRelay({ db, publishers });
 */
export async function buildPublishers(
  config: CliConfig,
  context: { logger: Logger; db?: Queryable },
): Promise<Record<string, Publisher>> {
  const problems: string[] = [];
  const publishers: Record<string, Publisher> = {};
  for (const type of config.publisherTypes) {
    try {
      publishers[type] = await buildOne(type, config, context);
    } catch (error) {
      // Every error a publisher throws on purpose about its options is an OutboxError
      // (validation, credentials, ...); anything else is a bug and goes up as is.
      if (!(error instanceof OutboxError)) throw error;
      const found = error instanceof ConfigError ? error.problems : [error.message];
      problems.push(...found.map((p) => `${type} publisher: ${p}`));
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const first = config.publisherTypes[0];
  if (first && publishers[first]) publishers.default = publishers[first];
  return publishers;
}

async function buildOne(
  type: PublisherType,
  config: CliConfig,
  context: { logger: Logger; db?: Queryable },
): Promise<Publisher> {
  switch (type) {
    case 'console':
      return new ConsolePublisher({ logger: context.logger.child({ publisher: 'console' }) });
    case 'webhook':
      return buildWebhook(config);
    case 'routeros':
      return buildRouterOs(config, context);
    case 'nats':
      return buildNatsPublisher(config, context.logger);
  }
}

/**
 * The webhook publisher, its URL checked by the SSRF guard at once: the URL is fixed for the
 * process's life, so a private one without OUTBOX_WEBHOOK_ALLOW_PRIVATE is a configuration
 * error (exit 2), not a dead letter per message. Advice names the variable, not the option.
 */
async function buildWebhook(config: CliConfig): Promise<Publisher> {
  const { SsrfBlockedError, WebhookPublisher, WebhookSecret } = await import(
    '../../publishers/webhook/index.js'
  );
  const allow = SETTINGS.webhookAllowPrivate.env;
  const webhook = new WebhookPublisher({
    ...(config.webhookUrl ? { url: config.webhookUrl } : {}),
    secrets: config.webhookSecrets.map((s) => WebhookSecret.parseAny(s, SETTINGS.webhookSecrets.env)),
    signatureSchemes: [config.webhookSignature],
    bodyFormat: config.webhookFormat,
    ...(config.cloudEventsSource ? { cloudEventsSource: config.cloudEventsSource } : {}),
    allowPrivateNetworks: config.webhookAllowPrivate,
    hints: { privateAddress: `set ${allow}=true to let webhooks reach internal addresses` },
  });
  try {
    await webhook.checkTargets();
  } catch (error) {
    await webhook.close();
    if (!(error instanceof SsrfBlockedError)) throw error;
    const url = new URL(config.webhookUrl ?? '');
    throw new ConfigError([`${SETTINGS.webhookUrl.env} ${url.origin}${url.pathname}: ${error.message}`]);
  }
  return webhook;
}

/** Device commands to routers registered with `outbox-relay devices add`. */
async function buildRouterOs(
  config: CliConfig,
  context: { logger: Logger; db?: Queryable },
): Promise<Publisher> {
  if (!context.db)
    throw new ConfigError(['the routeros publisher needs DATABASE_URL (devices are read from the registry)']);
  const ros = await import('../../publishers/routeros/index.js');
  const cipher = new ros.CredentialsCipher({ key: config.credentialsKey ?? '' });
  return new ros.RouterOsPublisher({
    devices: new ros.TableDeviceResolver({ db: context.db, schema: config.schema, cipher }),
    connectTimeoutMs: ROUTEROS_CONNECT_TIMEOUT_MS,
    commandTimeoutMs: ROUTEROS_COMMAND_TIMEOUT_MS,
  });
}

/** Connecting and logging in to a router; a dead router should not hold a publish slot long. */
const ROUTEROS_CONNECT_TIMEOUT_MS = 5_000;
/** One RouterOS command; an action runs a few. */
const ROUTEROS_COMMAND_TIMEOUT_MS = 10_000;
