import type { z } from 'zod';
import type { RosRow } from '../ros-connection.js';
import { RosTrapError } from '../ros-errors.js';
import { isNoSuchItemTrap } from '../trap-classifier.js';

/**
 * Runs one RouterOS command on the device's connection, within the publisher's per-command
 * deadline. Throws `RosTrapError` when the router refuses the command.
 *
 * @example
 * const rows = await ros.run('/ppp/secret/print', ['?name=alice', '=.proplist=.id,name']);
 */
export interface RosCommandRunner {
  run(command: string, words?: readonly string[]): Promise<RosRow[]>;
}

/**
 * How `pppoe.suspend` cuts a customer off, and `pppoe.activate` restores them:
 * - `'disable'`: disable the secret and drop the live session;
 * - `{ profile }`: move the secret to that profile (e.g. one with a redirect address-list or
 *   rate-limit) and drop the session; activate then needs `params.profile`;
 * - `{ addressList }`: add the customer's address to that firewall address-list.
 *
 * @example
 * new RouterOsPublisher({ devices, connectTimeoutMs: 5000, commandTimeoutMs: 10000, suspendMode: { addressList: 'blocked' } });
 */
export type SuspendMode = 'disable' | { profile: string } | { addressList: string };

/** What an action can use. */
export interface ActionContext {
  readonly ros: RosCommandRunner;
  readonly suspendMode: SuspendMode;
}

/** What an action reports; stored in the outbox row's `result`. */
export interface ActionResult {
  /** What happened on the router: created, updated, deleted, absent, unchanged, suspended, ... */
  readonly action: string;
  /** The `.id` of the item the action worked on, when there is one. */
  readonly id?: string;
  readonly [key: string]: unknown;
}

/**
 * One high-level action (`pppoe.create`, ...): its params schema and how to apply it
 * idempotently.
 *
 * @example
 * const action: RouterOsAction<{ name: string }> = { name: 'x.y', params: z.strictObject({ name: z.string() }), run: async () => ({ action: 'noop' }) };
 */
export interface RouterOsAction<P = any> {
  readonly name: string;
  readonly params: z.ZodType<P>;
  run(context: ActionContext, params: P): Promise<ActionResult>;
}

/**
 * Turns `{ name: 'a', disabled: true, comment: undefined }` into `['=name=a', '=disabled=yes']`,
 * skipping undefined values.
 *
 * @example
 * attributeWords({ name: 'alice', disabled: false }) // ['=name=alice', '=disabled=no']
 */
export function attributeWords(
  attributes: Readonly<Record<string, string | number | boolean | undefined>>,
): string[] {
  const words: string[] = [];
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    words.push(`=${key}=${typeof value === 'boolean' ? (value ? 'yes' : 'no') : String(value)}`);
  }
  return words;
}

/**
 * The `.id` an `add` returned (`!done =ret=*1A`).
 *
 * @example
 * addedId([{ ret: '*1A' }]) // '*1A'
 */
export function addedId(rows: readonly RosRow[]): string | undefined {
  for (const row of rows) if (row.ret !== undefined) return row.ret;
  return undefined;
}

/**
 * Removes `rows` from `menu` one `.id` at a time and returns the ids removed. A row that is
 * already gone ("no such item": another writer, or a session that ended by itself between
 * print and remove) counts as done, which is what makes every delete idempotent.
 *
 * @example
 * const ids = await removeRows(ros, '/queue/simple', await ros.run('/queue/simple/print', ['?name=q1']));
 */
export async function removeRows(
  ros: RosCommandRunner,
  menu: string,
  rows: readonly RosRow[],
): Promise<string[]> {
  const ids: string[] = [];
  for (const row of rows) {
    try {
      await ros.run(`${menu}/remove`, [`=.id=${row['.id']}`]);
      ids.push(row['.id']!);
    } catch (error) {
      if (!(error instanceof RosTrapError && isNoSuchItemTrap(error.trapMessage))) throw error;
    }
  }
  return ids;
}
