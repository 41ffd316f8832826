import { z } from 'zod';
import { PermanentPublishError } from '../../../core/foundation/errors.js';
import type { RosRow } from '../ros-connection.js';
import { RosTrapError } from '../ros-errors.js';
import { isAlreadyExistsTrap, isNoSuchItemTrap } from '../trap-classifier.js';
import { paramSchemas as p } from './action-params.js';
import {
  type ActionContext,
  type ActionResult,
  addedId,
  attributeWords,
  removeRows,
  type RosCommandRunner,
  type RouterOsAction,
} from './routeros-action.js';

const SECRET = '/ppp/secret';
const ACTIVE = '/ppp/active';
const ADDRESS_LIST = '/ip/firewall/address-list';
/** Print only what the actions read: a full print of a busy router is slow (notes 1). */
const SECRET_PROPS = '=.proplist=.id,name,profile,remote-address,disabled';
/** An add that loses a race, or a set whose item vanished, restarts at most this often. */
const MAX_APPLY_ROUNDS = 3;

const secretFields = {
  password: p.password,
  profile: p.profile,
  service: p.service.optional(),
  'remote-address': p.ipv4.optional(),
  'local-address': p.text().optional(),
  'caller-id': p.text().optional(),
  comment: p.comment.optional(),
  disabled: z.boolean().optional(),
};

const createParams = z.strictObject({ name: p.name, ...secretFields });
const updateParams = z
  .strictObject({
    name: p.name,
    password: secretFields.password.optional(),
    profile: secretFields.profile.optional(),
    service: secretFields.service,
    'remote-address': secretFields['remote-address'],
    'local-address': secretFields['local-address'],
    'caller-id': secretFields['caller-id'],
    comment: secretFields.comment,
    disabled: secretFields.disabled,
  })
  .refine((v) => Object.keys(v).length > 1, {
    message: 'nothing to change: give at least one field besides name',
  });
const nameParams = z.strictObject({ name: p.name });
const suspendParams = z.strictObject({ name: p.name, address: p.address.optional() });
const activateParams = z.strictObject({
  name: p.name,
  profile: p.profile.optional(),
  address: p.address.optional(),
});

type SecretFields = Omit<z.infer<typeof createParams>, 'name'>;

async function findSecrets(ros: RosCommandRunner, name: string): Promise<RosRow[]> {
  return ros.run(`${SECRET}/print`, [`?name=${name}`, SECRET_PROPS]);
}

/** Drops live sessions of `name`: RouterOS does not apply a disable or profile change to them. */
async function kick(ros: RosCommandRunner, name: string): Promise<number> {
  const sessions = await ros.run(`${ACTIVE}/print`, [`?name=${name}`, '=.proplist=.id']);
  return (await removeRows(ros, ACTIVE, sessions)).length;
}

/**
 * Brings the secret `name` to `fields`: add it when absent, else set every given field
 * (password included: RouterOS may hide it, so it is never compared). An add that finds the
 * name taken (a race or a repeat) and a set whose item vanished both start over.
 */
async function upsertSecret(
  ros: RosCommandRunner,
  name: string,
  fields: Partial<SecretFields>,
  createIfAbsent: boolean,
): Promise<ActionResult> {
  for (let round = 1; ; round++) {
    const [existing] = await findSecrets(ros, name);
    try {
      if (!existing) {
        if (!createIfAbsent) throw new PermanentPublishError(`pppoe secret "${name}" does not exist`);
        const rows = await ros.run(`${SECRET}/add`, attributeWords({ name, service: 'pppoe', ...fields }));
        return { action: 'created', id: addedId(rows) };
      }
      const id = existing['.id']!;
      await ros.run(`${SECRET}/set`, [`=.id=${id}`, ...attributeWords(fields)]);
      const changedSession =
        (fields.profile !== undefined && fields.profile !== existing.profile) ||
        (fields['remote-address'] !== undefined && fields['remote-address'] !== existing['remote-address']) ||
        (fields.disabled === true && existing.disabled !== 'true');
      const kicked = changedSession ? await kick(ros, name) : 0;
      return { action: 'updated', id, kicked };
    } catch (error) {
      const retryable =
        error instanceof RosTrapError &&
        (isAlreadyExistsTrap(error.trapMessage) || isNoSuchItemTrap(error.trapMessage));
      if (!retryable || round >= MAX_APPLY_ROUNDS) throw error;
    }
  }
}

/** The secret, or a permanent error: suspending or activating a customer the router does not know is a data problem. */
async function requireSecret(ros: RosCommandRunner, name: string, action: string): Promise<RosRow> {
  const [secret] = await findSecrets(ros, name);
  if (!secret)
    throw new PermanentPublishError(`${action}: pppoe secret "${name}" does not exist on the router`);
  return secret;
}

function blockComment(name: string): string {
  return `outbox-relay pppoe ${name}`;
}

async function setSecret(ros: RosCommandRunner, id: string, words: string[]): Promise<void> {
  await ros.run(`${SECRET}/set`, [`=.id=${id}`, ...words]);
}

/** `pppoe.create`: the secret exists afterwards with exactly the given fields (service pppoe). */
export const pppoeCreate: RouterOsAction<z.infer<typeof createParams>> = {
  name: 'pppoe.create',
  params: createParams,
  run: ({ ros }, { name, ...fields }) => upsertSecret(ros, name, fields, true),
};

/** `pppoe.update`: changes the given fields of an existing secret; kicks the session when its profile or address changed. */
export const pppoeUpdate: RouterOsAction<z.infer<typeof updateParams>> = {
  name: 'pppoe.update',
  params: updateParams,
  run: ({ ros }, { name, ...fields }) => upsertSecret(ros, name, fields, false),
};

/** `pppoe.delete`: the secret is absent afterwards and its session dropped; deleting an absent secret succeeds. */
export const pppoeDelete: RouterOsAction<z.infer<typeof nameParams>> = {
  name: 'pppoe.delete',
  params: nameParams,
  async run({ ros }, { name }) {
    const secrets = await findSecrets(ros, name);
    const ids = await removeRows(ros, SECRET, secrets);
    const kicked = await kick(ros, name);
    return { action: ids.length > 0 ? 'deleted' : 'absent', id: ids[0], kicked };
  },
};

async function addressOf(
  ros: RosCommandRunner,
  name: string,
  given: string | undefined,
  action: string,
): Promise<string> {
  if (given) return given;
  const secret = await requireSecret(ros, name, action);
  const address = secret['remote-address'];
  if (!address) {
    throw new PermanentPublishError(
      `${action}: params.address: required when suspending to an address-list and secret "${name}" has no remote-address`,
    );
  }
  return address;
}

/** `pppoe.suspend`: cuts the customer off the way `suspendMode` says (disable + kick, profile + kick, or address-list). */
export const pppoeSuspend: RouterOsAction<z.infer<typeof suspendParams>> = {
  name: 'pppoe.suspend',
  params: suspendParams,
  async run({ ros, suspendMode }: ActionContext, { name, address }) {
    if (suspendMode === 'disable') {
      const secret = await requireSecret(ros, name, 'pppoe.suspend');
      await setSecret(ros, secret['.id']!, ['=disabled=yes']);
      return { action: 'suspended', id: secret['.id'], mode: 'disable', kicked: await kick(ros, name) };
    }
    if ('profile' in suspendMode) {
      const secret = await requireSecret(ros, name, 'pppoe.suspend');
      await setSecret(ros, secret['.id']!, [`=profile=${suspendMode.profile}`]);
      return { action: 'suspended', id: secret['.id'], mode: 'profile', kicked: await kick(ros, name) };
    }
    const list = suspendMode.addressList;
    const entry = await addressOf(ros, name, address, 'pppoe.suspend');
    const [existing] = await ros.run(`${ADDRESS_LIST}/print`, [
      `?list=${list}`,
      `?address=${entry}`,
      '=.proplist=.id',
    ]);
    if (existing) return { action: 'suspended', id: existing['.id'], mode: 'address-list', unchanged: true };
    try {
      const rows = await ros.run(
        `${ADDRESS_LIST}/add`,
        attributeWords({ list, address: entry, comment: blockComment(name) }),
      );
      return { action: 'suspended', id: addedId(rows), mode: 'address-list' };
    } catch (error) {
      if (error instanceof RosTrapError && isAlreadyExistsTrap(error.trapMessage)) {
        return { action: 'suspended', mode: 'address-list', unchanged: true };
      }
      throw error;
    }
  },
};

/** `pppoe.activate`: reverses `pppoe.suspend`; in profile mode `params.profile` names the plan's profile. */
export const pppoeActivate: RouterOsAction<z.infer<typeof activateParams>> = {
  name: 'pppoe.activate',
  params: activateParams,
  async run({ ros, suspendMode }: ActionContext, { name, profile, address }) {
    if (suspendMode !== 'disable' && 'profile' in suspendMode && !profile) {
      // Checked before touching the router: the suspended profile replaced the plan's one.
      throw new PermanentPublishError(
        'pppoe.activate: params.profile: required when suspendMode is a profile (the profile to restore)',
      );
    }
    if (suspendMode === 'disable' || 'profile' in suspendMode) {
      const secret = await requireSecret(ros, name, 'pppoe.activate');
      const words = suspendMode === 'disable' ? ['=disabled=no'] : [`=profile=${profile}`];
      if (profile && suspendMode === 'disable') words.push(`=profile=${profile}`);
      await setSecret(ros, secret['.id']!, words);
      return { action: 'activated', id: secret['.id'], kicked: await kick(ros, name) };
    }
    const list = suspendMode.addressList;
    // Entries are found by address or by the comment suspend wrote, so activate works even
    // when the secret's address changed in between.
    const known = address ?? (await findSecrets(ros, name))[0]?.['remote-address'];
    const query = known
      ? [`?list=${list}`, `?address=${known}`, `?comment=${blockComment(name)}`, '?#|&']
      : [`?list=${list}`, `?comment=${blockComment(name)}`];
    const entries = await ros.run(`${ADDRESS_LIST}/print`, [...query, '=.proplist=.id']);
    const removed = (await removeRows(ros, ADDRESS_LIST, entries)).length;
    return { action: 'activated', mode: 'address-list', removed };
  },
};
