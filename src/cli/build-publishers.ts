import fs from 'node:fs';
import { ConfigError, OutboxValidationError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Queryable } from '../core/queryable.js';
import { ConsolePublisher } from '../publishers/console/console-publisher.js';
import type { Publisher } from '../publishers/publisher.js';
import type { CliConfig, PublisherType } from './settings.js';

/** Whether a publisher's module is part of this build (webhook and routeros land separately). */
export function publisherAvailable(type: PublisherType): boolean {
  if (type === 'console') return true;
  const here = new URL(`../publishers/${type}/`, import.meta.url);
  return ['index.ts', 'index.js'].some((f) => fs.existsSync(new URL(f, here)));
}

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
    if (!publisherAvailable(type)) {
      problems.push(
        `OUTBOX_PUBLISHER_TYPE includes ${type}, but the ${type} publisher is not available in this build yet`,
      );
      continue;
    }
    try {
      publishers[type] = await buildOne(type, config, context);
    } catch (error) {
      if (error instanceof ConfigError)
        problems.push(...error.problems.map((p) => `${type} publisher: ${p}`));
      else if (
        error instanceof OutboxValidationError ||
        (error as { code?: string }).code === 'CREDENTIALS_INVALID'
      ) {
        problems.push(`${type} publisher: ${(error as Error).message}`);
      } else throw error;
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
    case 'webhook': {
      const { WebhookPublisher } = await import('../publishers/webhook/index.js');
      return new WebhookPublisher({
        ...(config.webhookUrl ? { url: config.webhookUrl } : {}),
        secrets: config.webhookSecrets,
        allowPrivateNetworks: config.webhookAllowPrivate,
      });
    }
    case 'routeros':
      return buildRouterOs(config, context);
  }
}

/** Device commands to routers registered with `outbox-relay devices add`. */
async function buildRouterOs(
  config: CliConfig,
  context: { logger: Logger; db?: Queryable },
): Promise<Publisher> {
  if (!context.db)
    throw new ConfigError(['the routeros publisher needs DATABASE_URL (devices are read from the registry)']);
  const ros = await import('../publishers/routeros/index.js');
  const cipher = new ros.CredentialsCipher({ key: config.credentialsKey ?? '' });
  return new ros.RouterOsPublisher({
    devices: new ros.TableDeviceResolver({ db: context.db, schema: config.schema, cipher }),
    connectTimeoutMs: ROUTEROS_CONNECT_TIMEOUT_MS,
    commandTimeoutMs: ROUTEROS_COMMAND_TIMEOUT_MS,
    logger: context.logger.child({ publisher: 'routeros' }),
  });
}

/** Connecting and logging in to a router; a dead router should not hold a publish slot long. */
const ROUTEROS_CONNECT_TIMEOUT_MS = 5_000;
/** One RouterOS command; an action runs a few. */
const ROUTEROS_COMMAND_TIMEOUT_MS = 10_000;
