import { createHash } from 'node:crypto';
import type { Clock } from '../../core/foundation/clock.js';
import { type DeviceConfig, routerOsPort } from './device-config.js';
import { RosConnection } from './ros-connection.js';
import { RosTransportError } from './ros-errors.js';

/** Options of `DeviceConnections`. */
export interface DeviceConnectionsOptions {
  /** Orders idle connections by last use, so the least recently used one is closed first. */
  clock: Clock;
  /** Open connections at most, across all devices; idle ones are closed to make room. */
  maxConnections: number;
  connectTimeoutMs: number;
  idleTimeoutMs?: number;
}

/** A FIFO lock whose waiters can give up when their signal aborts. */
class DeviceLock {
  #held = false;
  readonly #waiters: (() => void)[] = [];

  get held(): boolean {
    return this.#held;
  }

  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (this.#held) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const i = this.#waiters.indexOf(grant);
          if (i !== -1) this.#waiters.splice(i, 1);
          reject(
            new RosTransportError('aborted while waiting for the device', false, { cause: signal?.reason }),
          );
        };
        const grant = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        if (signal?.aborted) return onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
        this.#waiters.push(grant);
      });
    }
    this.#held = true;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiters.shift();
      if (next) next();
      else this.#held = false;
    };
  }
}

interface DeviceSlot {
  readonly lock: DeviceLock;
  connection?: RosConnection;
  /** Hash of the connection details the connection was opened with. */
  key?: string;
  lastUsedAt: number;
}

/**
 * One connection per device, reused between commands and replaced when it fails or the
 * device's details change; one command at a time per device (a FIFO lock), and a bounded
 * number of open connections in total (least recently used idle ones are closed first).
 *
 * @example
 * const connections = new DeviceConnections({ clock: new SystemClock(), maxConnections: 50, connectTimeoutMs: 5000 });
 * await connections.use(device, signal, (conn) => conn.write('/system/identity/print', [], { timeoutMs: 5000 }));
 */
export class DeviceConnections {
  readonly #options: DeviceConnectionsOptions;
  readonly #slots = new Map<string, DeviceSlot>();
  #open = 0;
  readonly #roomWaiters = new Set<() => void>();
  #closed = false;

  constructor(options: DeviceConnectionsOptions) {
    this.#options = options;
  }

  /** Open connections now (for tests and metrics). */
  get openConnections(): number {
    return this.#open;
  }

  /** Runs `fn` with the device's connection while holding the device's lock. */
  async use<T>(
    device: DeviceConfig,
    signal: AbortSignal | undefined,
    fn: (conn: RosConnection) => Promise<T>,
  ): Promise<T> {
    if (this.#closed) throw new RosTransportError('the publisher is closed');
    let slot = this.#slots.get(device.name);
    if (!slot) {
      slot = { lock: new DeviceLock(), lastUsedAt: 0 };
      this.#slots.set(device.name, slot);
    }
    const release = await slot.lock.acquire(signal);
    try {
      const connection = await this.#connectionFor(slot, device, signal);
      slot.lastUsedAt = this.#options.clock.now().getTime();
      return await fn(connection);
    } finally {
      slot.lastUsedAt = this.#options.clock.now().getTime();
      if (slot.connection && !slot.connection.usable) this.#discard(slot);
      release();
      this.#wakeRoomWaiters();
    }
  }

  /** Destroys every connection. */
  close(): void {
    this.#closed = true;
    for (const slot of this.#slots.values()) this.#discard(slot);
    this.#wakeRoomWaiters();
  }

  async #connectionFor(
    slot: DeviceSlot,
    device: DeviceConfig,
    signal: AbortSignal | undefined,
  ): Promise<RosConnection> {
    const key = connectionKey(device);
    if (slot.connection?.usable && slot.key === key) return slot.connection;
    if (slot.connection) this.#discard(slot);
    await this.#reserveRoom(signal);
    try {
      slot.connection = await RosConnection.open({
        host: device.host,
        port: routerOsPort(device),
        username: device.username,
        password: device.password,
        tls: device.tls ?? false,
        connectTimeoutMs: this.#options.connectTimeoutMs,
        idleTimeoutMs: this.#options.idleTimeoutMs,
        signal,
      });
      slot.key = key;
      return slot.connection;
    } catch (error) {
      this.#open--;
      this.#wakeRoomWaiters();
      throw error;
    }
  }

  /**
   * Waits until a connection may be opened (closing the least recently used idle one if
   * needed) and counts it as open. Counting happens in the same tick as the check, so two
   * woken waiters can never both take the last place.
   */
  async #reserveRoom(signal: AbortSignal | undefined): Promise<void> {
    for (;;) {
      if (this.#closed) throw new RosTransportError('the publisher is closed');
      if (this.#open < this.#options.maxConnections) {
        this.#open++;
        return;
      }
      let idle: DeviceSlot | undefined;
      for (const slot of this.#slots.values()) {
        if (!slot.connection || slot.lock.held) continue;
        if (!slot.connection.usable) {
          idle = slot;
          break;
        }
        if (!idle || slot.lastUsedAt < idle.lastUsedAt) idle = slot;
      }
      if (idle) {
        this.#discard(idle);
        continue;
      }
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          this.#roomWaiters.delete(wake);
          reject(
            new RosTransportError('aborted while waiting for a free connection', false, {
              cause: signal?.reason,
            }),
          );
        };
        const wake = () => {
          this.#roomWaiters.delete(wake);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        if (signal?.aborted) return onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
        this.#roomWaiters.add(wake);
      });
    }
  }

  #discard(slot: DeviceSlot): void {
    if (!slot.connection) return;
    slot.connection.destroy();
    slot.connection = undefined;
    slot.key = undefined;
    this.#open--;
  }

  #wakeRoomWaiters(): void {
    for (const wake of [...this.#roomWaiters]) wake();
  }
}

/** Identifies the connection details, so changed credentials or host open a new connection. Kept as a hash: no second copy of the password. */
function connectionKey(device: DeviceConfig): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        device.host,
        device.port ?? null,
        device.tls ?? false,
        device.username,
        device.password,
      ]),
    )
    .digest('hex');
}
