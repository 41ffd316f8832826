import { createHash } from 'node:crypto';
import { type Clock, SystemClock } from '../../core/foundation/clock.js';
import {
  OutboxValidationError,
  PermanentPublishError,
  TransientPublishError,
} from '../../core/foundation/errors.js';
import type { Logger } from '../../core/foundation/logger.js';
import type { OutboxMessage } from '../../core/foundation/message.js';
import { parseDestination } from '../../core/foundation/parse-destination.js';
import { positiveOption } from '../../core/foundation/option-checks.js';
import type { PublishContext, Publisher } from '../../core/foundation/publisher.js';
import { ROUTEROS_ACTIONS } from './actions/action-catalog.js';
import { parseActionParams } from './actions/action-params.js';
import type { ActionResult, RosCommandRunner, SuspendMode } from './actions/routeros-action.js';
import { CredentialsError } from './credentials-cipher.js';
import { DeviceConnections } from './device-connections.js';
import type { DeviceConfig } from './device-config.js';
import type { DeviceResolver } from './device-resolver.js';
import { installEmptyReplyPatch } from './empty-reply-patch.js';
import { DEFAULT_IDLE_TIMEOUT_MS, type RosConnection, type RosRow } from './ros-connection.js';
import { RosLoginError, RosTransportError, RosTrapError } from './ros-errors.js';
import { StaticDeviceResolver } from './static-device-resolver.js';
import { classifyTrap } from './trap-classifier.js';

/** Default bound on open router connections. */
export const DEFAULT_MAX_CONNECTIONS = 50;
/** How long a rejected login parks a device (same credentials fail fast, no login storm). */
export const DEFAULT_LOGIN_FAILURE_PARK_MS = 60_000;
/** When a disabled device, or unreadable credentials, are tried again. */
const DEVICE_UNAVAILABLE_RETRY_MS = 60_000;

/** Options of `RouterOsPublisher`. */
export interface RouterOsPublisherOptions {
  /** Where devices come from: a resolver (e.g. `TableDeviceResolver`) or a fixed list. */
  devices: DeviceResolver | readonly DeviceConfig[];
  /** Deadline for connecting and logging in. */
  connectTimeoutMs: number;
  /** Deadline for each RouterOS command (an action runs a few). */
  commandTimeoutMs: number;
  /** Open connections at most, across devices. Default 50. */
  maxConnections?: number;
  /** How `pppoe.suspend` / `pppoe.activate` work. Default `'disable'`. */
  suspendMode?: SuspendMode;
  /** An unused connection is closed after this long. Default 60000. */
  idleTimeoutMs?: number;
  /** How long a rejected login fails fast for the same credentials. Default 60000. */
  loginFailureParkMs?: number;
  /** Source of "now" for the login-failure park and connection reuse order; default the wall clock. */
  clock?: Clock;
  /** The publisher's name (the relay's publisher key). Default `routeros`. */
  name?: string;
}

/**
 * Applies device commands (`outbox.addCommand`) to MikroTik routers over the RouterOS API.
 * Each action is idempotent, so a redelivered command leaves the router as one delivery
 * would. Resolves with what the router answered (stored in the row's `result`).
 *
 * @example
 * const routeros = new RouterOsPublisher({
 *   devices: new TableDeviceResolver({ db, cipher: new CredentialsCipher({ key }) }),
 *   connectTimeoutMs: 5_000,
 *   commandTimeoutMs: 10_000,
 * });
 * createRelay({ db, publishers: { routeros } }).start();
 */
export class RouterOsPublisher implements Publisher {
  readonly name: string;
  readonly #resolver: DeviceResolver;
  readonly #connections: DeviceConnections;
  readonly #commandTimeoutMs: number;
  readonly #suspendMode: SuspendMode;
  readonly #parkMs: number;
  readonly #clock: Clock;
  /** Devices whose login was rejected: fingerprint of the rejected credentials and until when. */
  readonly #parked = new Map<string, { key: string; until: number }>();

  constructor(options: RouterOsPublisherOptions) {
    if (options === null || typeof options !== 'object') {
      throw new OutboxValidationError('options', 'RouterOsPublisher needs an options object');
    }
    if (!options.devices) {
      throw new OutboxValidationError('devices', 'must be a DeviceResolver or an array of devices');
    }
    positiveOption('connectTimeoutMs', options.connectTimeoutMs, 'milliseconds');
    positiveOption('commandTimeoutMs', options.commandTimeoutMs, 'milliseconds');
    const idleTimeoutMs = positiveOption(
      'idleTimeoutMs',
      options.idleTimeoutMs,
      'milliseconds',
      DEFAULT_IDLE_TIMEOUT_MS,
    );
    if (
      options.maxConnections !== undefined &&
      !(Number.isInteger(options.maxConnections) && options.maxConnections > 0)
    ) {
      throw new OutboxValidationError(
        'maxConnections',
        `must be a positive integer, got ${JSON.stringify(options.maxConnections)}`,
      );
    }
    const mode = options.suspendMode ?? 'disable';
    const modeOk =
      mode === 'disable' ||
      (typeof mode === 'object' &&
        (('profile' in mode && typeof mode.profile === 'string' && mode.profile !== '') ||
          ('addressList' in mode && typeof mode.addressList === 'string' && mode.addressList !== '')));
    if (!modeOk) {
      throw new OutboxValidationError(
        'suspendMode',
        `must be 'disable', { profile } or { addressList }, got ${JSON.stringify(mode)}`,
      );
    }

    installEmptyReplyPatch();
    this.name = options.name ?? 'routeros';
    this.#resolver = Array.isArray(options.devices)
      ? new StaticDeviceResolver(options.devices)
      : (options.devices as DeviceResolver);
    this.#commandTimeoutMs = options.commandTimeoutMs;
    this.#suspendMode = mode;
    this.#parkMs = options.loginFailureParkMs ?? DEFAULT_LOGIN_FAILURE_PARK_MS;
    this.#clock = options.clock ?? new SystemClock();
    if (typeof this.#clock?.now !== 'function') {
      throw new OutboxValidationError('clock', 'must have a now() method');
    }
    this.#connections = new DeviceConnections({
      clock: this.#clock,
      maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      connectTimeoutMs: options.connectTimeoutMs,
      idleTimeoutMs,
    });
  }

  /** Open router connections now. */
  get openConnections(): number {
    return this.#connections.openConnections;
  }

  /**
   * Applies one device command. Resolves with what the router answered; throws
   * `TransientPublishError` or `PermanentPublishError`.
   *
   * @example
   * await routeros.publish(message, { signal: AbortSignal.timeout(20_000), attempt: 1, logger: NOOP_LOGGER });
   */
  async publish(message: OutboxMessage, context: PublishContext): Promise<ActionResult & { device: string }> {
    // context.logger is read only where something is logged: the relay makes it on first read.
    let child: Logger | undefined;
    const logger = (): Logger =>
      (child ??= context.logger.child({ publisher: this.name, messageId: message.messageId }));
    const deviceName = deviceNameOf(message);
    const action = ROUTEROS_ACTIONS[message.type];
    if (!action) {
      throw new PermanentPublishError(
        `unknown RouterOS action ${JSON.stringify(message.type)}; expected one of ${Object.keys(ROUTEROS_ACTIONS).join(', ')}`,
      );
    }
    const params = parseActionParams(action.name, action.params, message.payload);
    const device = await this.#resolve(deviceName, message.tenantId);
    const deviceKey = credentialsKey(device);
    const parked = this.#parked.get(deviceName);
    if (parked && parked.key === deviceKey && parked.until > this.#clock.now().getTime()) {
      throw new PermanentPublishError(
        `router "${deviceName}" rejected the login recently with these credentials: fix the device's user name or password, then replay`,
      );
    }

    let sent = false;
    try {
      const result = await this.#connections.use(device, context.signal, async (conn) => {
        const ros = this.#runner(conn, context.signal, () => {
          sent = true;
        });
        return action.run({ ros, suspendMode: this.#suspendMode }, params);
      });
      this.#parked.delete(deviceName);
      logger().debug(
        { device: deviceName, action: action.name, result: result.action, id: result.id },
        'routeros command applied',
      );
      return { device: deviceName, ...result };
    } catch (error) {
      throw this.#publishError(error, deviceName, action.name, {
        raw: action.name === 'raw' && !(params as { idempotent?: boolean }).idempotent && sent,
        deviceKey,
        logger,
      });
    }
  }

  async close(): Promise<void> {
    this.#connections.close();
  }

  #runner(conn: RosConnection, signal: AbortSignal | undefined, onSend: () => void): RosCommandRunner {
    return {
      run: (command, words = []): Promise<RosRow[]> => {
        if (!/\/print$/.test(command)) onSend();
        return conn.write(command, words, { timeoutMs: this.#commandTimeoutMs, signal });
      },
    };
  }

  async #resolve(name: string, tenantId: string | null): Promise<DeviceConfig> {
    let device: DeviceConfig | undefined;
    try {
      device = await this.#resolver.resolve(name);
    } catch (error) {
      if (error instanceof CredentialsError) {
        // A key problem is fixed by configuration; the commands wait for it instead of dying.
        throw new TransientPublishError(`cannot read the credentials of router "${name}": ${error.message}`, {
          retryAfterMs: DEVICE_UNAVAILABLE_RETRY_MS,
          cause: error,
        });
      }
      throw new TransientPublishError(
        `cannot look up router "${name}": ${(error as Error)?.message ?? error}`,
        {
          cause: error,
        },
      );
    }
    if (!device)
      throw new PermanentPublishError(
        `unknown router "${name}": register it (devices.add) before sending it commands`,
      );
    if (tenantId != null && device.tenantId != null && device.tenantId !== tenantId) {
      throw new PermanentPublishError(
        `router "${name}" belongs to another tenant than the command's (${tenantId})`,
      );
    }
    if (device.enabled === false) {
      throw new TransientPublishError(`router "${name}" is disabled; its commands wait until it is enabled`, {
        retryAfterMs: DEVICE_UNAVAILABLE_RETRY_MS,
      });
    }
    return device;
  }

  #publishError(
    error: unknown,
    device: string,
    action: string,
    info: { raw: boolean; deviceKey: string; logger: () => Logger },
  ): unknown {
    if (error instanceof PermanentPublishError || error instanceof TransientPublishError) return error;
    if (error instanceof RosTrapError) {
      const text = `router "${device}" refused ${error.command}: ${error.trapMessage}`;
      return classifyTrap(error.trapMessage) === 'permanent'
        ? new PermanentPublishError(text, { cause: error })
        : new TransientPublishError(text, { cause: error });
    }
    if (error instanceof RosLoginError) {
      this.#parked.set(device, { key: info.deviceKey, until: this.#clock.now().getTime() + this.#parkMs });
      this.#resolver.invalidate?.(device);
      info.logger().warn({ device }, 'routeros login rejected');
      return new PermanentPublishError(
        `login to router "${device}" failed: wrong user name or password; fix the device's credentials, then replay`,
        { cause: error },
      );
    }
    if (error instanceof RosTransportError) {
      if (error.certificate) {
        return new PermanentPublishError(`router "${device}" TLS rejected: ${error.message}`, {
          cause: error,
        });
      }
      if (info.raw) {
        return new PermanentPublishError(
          `${action} on router "${device}" may or may not have been applied (${error.message}); ` +
            'not retried because the command is not marked idempotent',
          { cause: error },
        );
      }
      info.logger().debug({ device, reason: error.message }, 'routeros connection failed');
      return new TransientPublishError(`router "${device}" unreachable: ${error.message}`, { cause: error });
    }
    return error;
  }
}

/** `routeros:tower-3` -> `tower-3`; without a suffix, the ordering key (addCommand sets both). */
function deviceNameOf(message: OutboxMessage): string {
  const name = parseDestination(message.destination).target ?? message.orderingKey;
  if (!name) {
    throw new PermanentPublishError(
      `no device: destination ${JSON.stringify(message.destination)} has no ":<device>" and the message has no ordering key`,
    );
  }
  return name;
}

function credentialsKey(device: DeviceConfig): string {
  return createHash('sha256')
    .update(JSON.stringify([device.host, device.port, device.username, device.password]))
    .digest('hex');
}
