import type { FakeRouterLogEntry, FakeRow } from './fake-router.js';
import { attributesOf, compileQuery } from './query.js';

/** Reply sentences to one command, without tags: `[['!re', '=name=x'], ['!done']]`. */
export type Reply = string[][];

/**
 * Thrown inside command handling; the session answers it as `!trap` with RouterOS' words.
 *
 * @example
 * throw new TrapReply('no such item', 0);
 */
export class TrapReply extends Error {
  constructor(
    message: string,
    readonly category?: number,
  ) {
    super(message);
  }
}

interface MenuSpec {
  readonly fields: readonly string[];
  readonly defaults: Readonly<Record<string, string>>;
  readonly required: readonly string[];
  /** Fields that together must be unique, and the trap text RouterOS gives on a clash. */
  readonly unique?: { readonly fields: readonly string[]; readonly message: string };
  readonly verbs: readonly string[];
}

const WRITE_VERBS = ['add', 'set', 'remove', 'enable', 'disable'];
const ALL_VERBS = ['print', ...WRITE_VERBS];

const MENUS: Record<string, MenuSpec> = {
  '/ppp/secret': {
    fields: [
      'name',
      'service',
      'caller-id',
      'password',
      'profile',
      'local-address',
      'remote-address',
      'routes',
      'limit-bytes-in',
      'limit-bytes-out',
      'comment',
      'disabled',
    ],
    defaults: { service: 'any', 'caller-id': '', profile: 'default', routes: '', disabled: 'false' },
    required: ['name'],
    unique: { fields: ['name'], message: 'failure: secret with the same name already exists' },
    verbs: ALL_VERBS,
  },
  '/ppp/active': {
    fields: ['name', 'service', 'caller-id', 'address', 'uptime', 'encoding', 'session-id', 'radius'],
    defaults: { service: 'pppoe', 'caller-id': '', uptime: '0s', radius: 'false' },
    required: ['name'],
    verbs: ['print', 'remove'],
  },
  '/ppp/profile': {
    fields: ['name', 'local-address', 'remote-address', 'rate-limit', 'address-list', 'comment'],
    defaults: {},
    required: ['name'],
    unique: { fields: ['name'], message: 'failure: already have such name' },
    verbs: ALL_VERBS,
  },
  '/queue/simple': {
    fields: [
      'name',
      'target',
      'parent',
      'priority',
      'queue',
      'limit-at',
      'max-limit',
      'burst-limit',
      'burst-threshold',
      'burst-time',
      'comment',
      'disabled',
    ],
    defaults: {
      parent: 'none',
      priority: '8/8',
      queue: 'default-small/default-small',
      'limit-at': '0/0',
      'max-limit': '0/0',
      'burst-limit': '0/0',
      'burst-threshold': '0/0',
      'burst-time': '0s/0s',
      disabled: 'false',
    },
    required: ['target'],
    unique: { fields: ['name'], message: 'failure: already have such name' },
    verbs: ALL_VERBS,
  },
  '/ip/firewall/address-list': {
    fields: ['list', 'address', 'creation-time', 'timeout', 'dynamic', 'comment', 'disabled'],
    defaults: { dynamic: 'false', disabled: 'false' },
    required: ['list', 'address'],
    unique: { fields: ['list', 'address'], message: 'failure: already have such entry' },
    verbs: ALL_VERBS,
  },
  '/system/identity': {
    fields: ['name'],
    defaults: {},
    required: [],
    verbs: ['print', 'set'],
  },
};

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** Parses `10M`, `512k`, `1G`, `1000` into bits per second, as RouterOS normalises rates. */
function parseRate(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)([kMG]?)$/.exec(text);
  if (!match) return undefined;
  const unit = { '': 1, k: 1e3, M: 1e6, G: 1e9 }[match[2] as '' | 'k' | 'M' | 'G'];
  return Math.round(Number(match[1]) * unit);
}

/**
 * Normalises and validates one attribute the way RouterOS does before storing it.
 * Returns the stored text or throws the trap RouterOS would answer.
 */
function normalise(menu: string, field: string, value: string, profiles: Set<string>): string {
  if (field === 'disabled' || field === 'dynamic') {
    if (['yes', 'true'].includes(value)) return 'true';
    if (['no', 'false'].includes(value)) return 'false';
    throw new TrapReply(`invalid value for argument ${field}`, 1);
  }
  if (menu === '/ppp/secret') {
    if (field === 'profile' && !profiles.has(value)) {
      throw new TrapReply('input does not match any value of profile', 1);
    }
    if (field === 'service' && !['any', 'async', 'l2tp', 'ovpn', 'pppoe', 'pptp', 'sstp'].includes(value)) {
      throw new TrapReply('input does not match any value of service', 1);
    }
    if (field === 'remote-address' && value !== '' && !IPV4.test(value)) {
      throw new TrapReply('invalid value for argument remote-address', 1);
    }
  }
  if (menu === '/queue/simple') {
    if (field === 'target') {
      const parts = value.split(',').map((t) => (IPV4.test(t) ? `${t}/32` : t));
      if (parts.some((t) => !/^(\d+\.){3}\d+\/\d+$/.test(t) && !/^[A-Za-z][\w.-]*$/.test(t))) {
        throw new TrapReply('invalid value for argument target', 1);
      }
      return parts.join(',');
    }
    if (['max-limit', 'limit-at', 'burst-limit', 'burst-threshold'].includes(field)) {
      const rates = value.split('/').map(parseRate);
      if (rates.length !== 2 || rates.some((r) => r === undefined)) {
        throw new TrapReply(`invalid value for argument ${field}`, 1);
      }
      return rates.join('/');
    }
  }
  if (menu === '/ip/firewall/address-list' && field === 'address' && value === '') {
    throw new TrapReply('invalid value for argument address', 1);
  }
  return value;
}

/**
 * The router's in-memory configuration: RouterOS' menus with their fields, defaults, unique
 * keys, validation and error texts, and the verbs print/add/set/remove/enable/disable.
 *
 * @example
 * const menus = new Menus(['10M']);
 * menus.run('/ppp/secret/add', ['=name=alice', '=profile=10M'], false); // { reply: [['!done', '=ret=*1C']], wrote: true }
 */
export class Menus {
  readonly tables = new Map<string, FakeRow[]>();
  readonly log: FakeRouterLogEntry[] = [];
  #nextId = 0x1a;

  constructor(profiles: readonly string[]) {
    for (const menu of Object.keys(MENUS)) this.tables.set(menu, []);
    for (const name of ['default', 'default-encryption', ...profiles]) this.seed('/ppp/profile', { name });
    this.seed('/system/identity', { name: 'MikroTik' });
  }

  table(menu: string): FakeRow[] {
    const table = this.tables.get(menu);
    if (!table) throw new Error(`the fake router has no menu ${menu}`);
    return table;
  }

  seed(menu: string, fields: Record<string, string>): string {
    const id = `*${(this.#nextId++).toString(16).toUpperCase()}`;
    this.table(menu).push({ '.id': id, ...MENUS[menu]!.defaults, ...fields });
    return id;
  }

  profiles(): Set<string> {
    return new Set(this.table('/ppp/profile').map((p) => p.name!));
  }

  /** Finds rows by `.id` (or, as RouterOS allows in named menus, by name); comma lists allowed. */
  resolve(menu: string, ids: string): FakeRow[] {
    const table = this.table(menu);
    return ids.split(',').map((id) => {
      const row =
        table.find((r) => r['.id'] === id) ?? table.find((r) => r.name !== undefined && r.name === id);
      if (!row) throw new TrapReply('no such item', 0);
      return row;
    });
  }

  checkUnique(menu: string, candidate: FakeRow): void {
    const unique = MENUS[menu]!.unique;
    if (!unique) return;
    if (unique.fields.some((f) => candidate[f] === undefined || candidate[f] === '')) return;
    const clash = this.table(menu).find(
      (r) => r['.id'] !== candidate['.id'] && unique.fields.every((f) => r[f] === candidate[f]),
    );
    if (clash) throw new TrapReply(unique.message, 4);
  }

  /** Runs one command after login. Returns reply sentences (without tags). */
  run(command: string, words: readonly string[], readOnly: boolean): { reply: Reply; wrote: boolean } {
    if (command === '/system/identity/print' || command === '/system/identity/set') {
      // identity is a single-item menu: set takes no .id.
      const row = this.table('/system/identity')[0]!;
      if (command.endsWith('/print'))
        return { reply: [['!re', `=name=${row.name}`], ['!done']], wrote: false };
      if (readOnly) throw new TrapReply('not enough permissions (9)', 4);
      const name = attributesOf(words).name;
      if (name !== undefined) row.name = name;
      this.log.push({ command, attributes: { name: row.name! } });
      return { reply: [['!done']], wrote: true };
    }
    const slash = command.lastIndexOf('/');
    const menu = command.slice(0, slash);
    const verb = command.slice(slash + 1);
    const spec = MENUS[menu];
    if (!spec) throw new TrapReply('no such command prefix', 0);
    if (!spec.verbs.includes(verb)) throw new TrapReply('no such command', 0);
    if (verb === 'print') return { reply: this.print(menu, words), wrote: false };
    if (readOnly) throw new TrapReply('not enough permissions (9)', 4);
    const attributes = attributesOf(words);
    const reply = this.write(menu, verb, attributes);
    const logged = { ...attributes };
    if (logged.password !== undefined) logged.password = '***';
    this.log.push({ command, attributes: logged });
    return { reply, wrote: true };
  }

  print(menu: string, words: readonly string[]): Reply {
    const attributes = attributesOf(words);
    const proplist = attributes['.proplist']?.split(',');
    const matches = compileQuery(words.filter((w) => w.startsWith('?')));
    const rows = this.table(menu).filter(matches);
    if (attributes['count-only'] !== undefined) return [['!done', `=ret=${rows.length}`]];
    const reply: Reply = rows.map((row) => {
      const keys = ['.id', ...MENUS[menu]!.fields].filter(
        (k) => row[k] !== undefined && (!proplist || proplist.includes(k)),
      );
      return ['!re', ...keys.map((k) => `=${k}=${row[k]}`)];
    });
    reply.push(['!done']);
    return reply;
  }

  write(menu: string, verb: string, attributes: Record<string, string>): Reply {
    const spec = MENUS[menu]!;
    const ids = attributes['.id'] ?? attributes.numbers;
    const fields = Object.entries(attributes).filter(([k]) => k !== '.id' && k !== 'numbers');
    const profiles = this.profiles();
    const normalised: Record<string, string> = {};
    for (const [field, value] of fields) {
      if (!spec.fields.includes(field) || (menu === '/ip/firewall/address-list' && field === 'dynamic')) {
        throw new TrapReply(`unknown parameter ${field}`, 5);
      }
      if (verb === 'remove' || verb === 'enable' || verb === 'disable') {
        throw new TrapReply(`unknown parameter ${field}`, 5);
      }
      normalised[field] = normalise(menu, field, value, profiles);
    }
    if (verb === 'add') {
      for (const field of spec.required) {
        if (!normalised[field]) throw new TrapReply(`failure: ${field} not specified`, 1);
      }
      if (menu === '/queue/simple' && !normalised.name) {
        normalised.name = `queue${this.table(menu).length + 1}`;
      }
      const candidate: FakeRow = { ...spec.defaults, ...normalised };
      this.checkUnique(menu, candidate);
      const id = this.seed(menu, candidate);
      return [['!done', `=ret=${id}`]];
    }
    if (ids === undefined || ids === '') throw new TrapReply('no such item', 0);
    const rows = this.resolve(menu, ids);
    if (verb === 'remove') {
      const table = this.table(menu);
      for (const row of rows) table.splice(table.indexOf(row), 1);
      return [['!done']];
    }
    if (verb === 'enable' || verb === 'disable') {
      for (const row of rows) row.disabled = verb === 'disable' ? 'true' : 'false';
      return [['!done']];
    }
    for (const row of rows) {
      this.checkUnique(menu, { ...row, ...normalised });
      Object.assign(row, normalised);
    }
    return [['!done']];
  }
}
