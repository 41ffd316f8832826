import { addressListAdd, addressListRemove } from './address-list-actions.js';
import { pppoeActivate, pppoeCreate, pppoeDelete, pppoeSuspend, pppoeUpdate } from './pppoe-actions.js';
import { queueDelete, queueSet } from './queue-actions.js';
import { rawAction } from './raw-action.js';
import type { RouterOsAction } from './routeros-action.js';

/**
 * Every action a RouterOS command can name in `addCommand({ action })`, by name.
 *
 * @example
 * Object.keys(ROUTEROS_ACTIONS) // ['pppoe.create', 'pppoe.update', ...]
 */
export const ROUTEROS_ACTIONS: Readonly<Record<string, RouterOsAction>> = Object.fromEntries(
  [
    pppoeCreate,
    pppoeUpdate,
    pppoeDelete,
    pppoeSuspend,
    pppoeActivate,
    queueSet,
    queueDelete,
    addressListAdd,
    addressListRemove,
    rawAction,
  ].map((action) => [action.name, action]),
);

/** The names of the built-in actions. */
export type RouterOsActionName =
  | 'pppoe.create'
  | 'pppoe.update'
  | 'pppoe.delete'
  | 'pppoe.suspend'
  | 'pppoe.activate'
  | 'queue.set'
  | 'queue.delete'
  | 'address-list.add'
  | 'address-list.remove'
  | 'raw';
