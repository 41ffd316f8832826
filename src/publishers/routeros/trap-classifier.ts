/**
 * RouterOS answers a refused command with `!trap =message=...`; node-routeros hands us only
 * the message text (the category is dropped), so classification works on the text. The
 * texts come from RouterOS itself and public provisioning code (routeros-notes.md 2, 4).
 */

/** What to do about a trap: retry later, or never (dead-letter). */
export type TrapKind = 'permanent' | 'transient';

/** The router is busy or the command was cut short: the same command may succeed later. */
const TRANSIENT_PATTERNS: readonly RegExp[] = [
  /^interrupted/i,
  /timeout|timed out/i,
  /too many/i,
  /\bbusy\b/i,
  /try again/i,
  /not ready/i,
  /session terminated/i,
];

/** The command or its values are wrong, or the API user may not run it: retrying cannot help. */
const PERMANENT_PATTERNS: readonly RegExp[] = [
  /not enough permissions/i,
  /input does not match/i,
  /invalid value/i,
  /unknown parameter/i,
  /no such command/i,
  /expected end of command/i,
  /ambiguous value/i,
];

/**
 * Classifies a `!trap` message. Unknown texts count as permanent: the router understood and
 * refused the command, so repeating it unchanged would be refused again, and a dead letter
 * with the router's own words is what an operator can act on.
 *
 * @example
 * classifyTrap('not enough permissions (9)') // 'permanent'
 * classifyTrap('interrupted') // 'transient'
 */
export function classifyTrap(message: string): TrapKind {
  if (TRANSIENT_PATTERNS.some((p) => p.test(message))) return 'transient';
  if (PERMANENT_PATTERNS.some((p) => p.test(message))) return 'permanent';
  return 'permanent';
}

/**
 * True for RouterOS' "that already exists" traps (secret, queue name, address-list entry):
 * an add lost a race or is being repeated, so the idempotent action re-reads and continues.
 *
 * @example
 * isAlreadyExistsTrap('failure: secret with the same name already exists') // true
 */
export function isAlreadyExistsTrap(message: string): boolean {
  return /already exists|already have such/i.test(message);
}

/**
 * True for "no such item" (with or without a code suffix): the item vanished between the
 * print and the write, which for a remove means the goal is already reached.
 *
 * @example
 * isNoSuchItemTrap('no such item (4)') // true
 */
export function isNoSuchItemTrap(message: string): boolean {
  return /^no such item/i.test(message);
}

/**
 * True when the trap is the router rejecting the API login (wrong user or password).
 *
 * @example
 * isLoginRejectedTrap('invalid user name or password (6)') // true
 */
export function isLoginRejectedTrap(message: string): boolean {
  return /invalid user name or password|cannot log in/i.test(message);
}
