import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { encodeSentence, SentenceReader } from './routeros-words.js';

/**
 * A RouterOS API server we own, for tests, the bench and `outbox-relay demo`: real TCP, real
 * framing, the post-6.43 login, `.tag`, `!re/!done/!trap/!fatal`, the 7.18 `!empty` reply,
 * and in-memory menus with RouterOS' own error texts (routeros-notes.md sections 1-2), over
 * plain TCP (api, 8728) or TLS (api-ssl, 8729). It has no dependencies beyond node:net and
 * node:tls so the CLI can ship it.
 */

/** One row of a menu, as RouterOS prints it (every value is a string). */
export type FakeRow = Record<string, string>;

/** How the fake router misbehaves; every field can be changed while it runs with `setMode`. */
export interface FakeRouterMode {
  /** Answer a print with no rows `!empty` + `!done`, as RouterOS >= 7.18 does. */
  emptyReplies: boolean;
  /** Read everything, answer nothing (login included). */
  silent: boolean;
  /** Wait this long before each reply. */
  delayMs: number;
  /** Reject every login with the wrong-credentials trap. */
  refuseLogins: boolean;
  /** Drop the connection on the next command after login: TCP RST or FIN. */
  drop: false | 'rst' | 'fin';
  /** Answer every command after login with `!fatal <reason>` and close. */
  fatal: string | false;
  /** Close (FIN) every new connection before its login is answered. */
  finBeforeLogin: boolean;
  /** Stop listening and drop every connection (the router is unreachable); false listens again. */
  offline: boolean;
  /** Apply the next N write commands, then reset the connection instead of answering. */
  dropAfterApply: number;
  /** Write commands trap with `not enough permissions (9)`. */
  readOnly: boolean;
  /** Trap this exact command (e.g. `/ppp/secret/add`) instead of running it, `times` times (default: always). */
  trap: { command: string; message: string; category?: number; times?: number } | undefined;
}

/** Counters tests assert on (connection reuse, login attempts). */
export interface FakeRouterStats {
  /** Accepted connections; with TLS, only those whose handshake completed. */
  connections: number;
  openConnections: number;
  logins: number;
  failedLogins: number;
  /** Commands received after login, keepalive `#` excluded. */
  commands: number;
}

/** A write the router applied, in order (passwords are replaced by `***`). */
export interface FakeRouterLogEntry {
  readonly command: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/** The router's in-memory configuration, for tests to read and seed. */
export interface FakeRouterState {
  /** Copies of a menu's rows, in creation order (e.g. `rows('/ppp/secret')`). */
  rows(menu: string): FakeRow[];
  /** The first row whose fields equal `where`, or undefined. */
  find(menu: string, where: Record<string, string>): FakeRow | undefined;
  /** Adds a row without validation and returns its `.id`. */
  seed(menu: string, fields: Record<string, string>): string;
  /** Simulates a PPPoE client dialing in: adds a `/ppp/active` row if the secret exists and is enabled. */
  dial(name: string, address?: string): string | undefined;
  /** Every applied write, in order. */
  readonly log: readonly FakeRouterLogEntry[];
}

/**
 * Serve api-ssl instead of plain api: with a PEM certificate and key, or, as RouterOS does
 * when api-ssl has no certificate, with anonymous Diffie-Hellman only (no certificate at all).
 */
export type FakeRouterTls = { key: string | Buffer; cert: string | Buffer } | { anonymousDh: true };

/** Options of `startFakeRouter`. */
export interface FakeRouterOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Accepted user names and passwords. Default `{ admin: 'admin' }`. */
  users?: Record<string, string>;
  /** Extra `/ppp/profile` names besides `default` and `default-encryption`. */
  profiles?: readonly string[];
  mode?: Partial<FakeRouterMode>;
  /** Speak api-ssl (TLS) instead of plain api. Default: plain TCP. */
  tls?: FakeRouterTls;
}

/** A running fake router. */
export interface FakeRouter {
  readonly host: string;
  readonly port: number;
  readonly state: FakeRouterState;
  readonly stats: Readonly<FakeRouterStats>;
  readonly mode: Readonly<FakeRouterMode>;
  /** Changes fault modes; resolves once `offline` changes took effect. */
  setMode(patch: Partial<FakeRouterMode>): Promise<void>;
  /** Drops every open connection (RST) without going offline. */
  dropConnections(): void;
  close(): Promise<void>;
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

const DEFAULT_MODE: FakeRouterMode = {
  emptyReplies: false,
  silent: false,
  delayMs: 0,
  refuseLogins: false,
  drop: false,
  fatal: false,
  finBeforeLogin: false,
  offline: false,
  dropAfterApply: 0,
  readOnly: false,
  trap: undefined,
};

type Reply = string[][];

/**
 * Anonymous DH as RouterOS' certificate-less api-ssl offers it. TLS 1.3 has no anonymous
 * suites (OpenSSL then fails with "no suitable signature algorithm"), so it is TLS 1.2 only;
 * OpenSSL 3 rates ADH below security level 1, hence `@SECLEVEL=0`; and DH needs parameters,
 * which Node only loads when asked (`dhparam: 'auto'`).
 */
const ANONYMOUS_DH_SERVER_OPTIONS: tls.TlsOptions = {
  ciphers: 'ADH-AES256-GCM-SHA384:@SECLEVEL=0',
  dhparam: 'auto',
  maxVersion: 'TLSv1.2',
};

/**
 * Resets the TCP connection under `socket`. A TLS socket has no TCP handle of its own
 * (`resetAndDestroy` throws ERR_INVALID_HANDLE_TYPE), so reset the TCP socket it wraps
 * (`_parent`, internal to node:tls); if that is ever missing, fall back to a plain close.
 */
function resetSocket(socket: net.Socket): void {
  const tcp = socket instanceof tls.TLSSocket ? (socket as { _parent?: net.Socket })._parent : socket;
  if (tcp && typeof tcp.resetAndDestroy === 'function') tcp.resetAndDestroy();
  socket.destroy();
}

/** Thrown inside command handling; becomes `!trap`. */
class TrapReply extends Error {
  constructor(
    message: string,
    readonly category?: number,
  ) {
    super(message);
  }
}

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

/** Splits `=name=value` words into a record (the value may contain `=`). */
function attributesOf(words: readonly string[]): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const word of words) {
    if (!word.startsWith('=')) continue;
    const eq = word.indexOf('=', 1);
    if (eq === -1) attributes[word.slice(1)] = '';
    else attributes[word.slice(1, eq)] = word.slice(eq + 1);
  }
  return attributes;
}

type Predicate = (row: FakeRow) => boolean;

/** Evaluates RouterOS query words (`?name=x`, `?-name`, `?<a=1`, `?#|!`) against one row set. */
function compileQuery(words: readonly string[]): Predicate {
  const stack: Predicate[] = [];
  const pop = (): Predicate => stack.pop() ?? (() => true);
  for (const word of words) {
    const q = word.slice(1);
    if (q.startsWith('#')) {
      for (const op of q.slice(1)) {
        if (op === '|' || op === '&') {
          const b = pop();
          const a = pop();
          stack.push(op === '|' ? (r) => a(r) || b(r) : (r) => a(r) && b(r));
        } else if (op === '!') {
          const a = pop();
          stack.push((r) => !a(r));
        } else if (op === '.') {
          const a = stack[stack.length - 1] ?? (() => true);
          stack.push(a);
        } else if (/\d/.test(op)) {
          const a = stack[Number(op)] ?? (() => true);
          stack.push(a);
        }
      }
      continue;
    }
    if (q.startsWith('-')) {
      const name = q.slice(1);
      stack.push((r) => r[name] === undefined);
      continue;
    }
    const body = q.startsWith('=') ? q.slice(1) : q;
    const eq = body.indexOf('=');
    if (eq === -1) {
      stack.push((r) => r[body] !== undefined);
      continue;
    }
    const op = body[0] === '<' || body[0] === '>' ? body[0] : '=';
    const name = body.slice(op === '=' ? 0 : 1, eq);
    const value = body.slice(eq + 1);
    const compare = (a: string, b: string): number =>
      /^\d+$/.test(a) && /^\d+$/.test(b) ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0;
    if (op === '=') stack.push((r) => r[name] === value);
    else if (op === '<') stack.push((r) => r[name] !== undefined && compare(r[name]!, value) < 0);
    else stack.push((r) => r[name] !== undefined && compare(r[name]!, value) > 0);
  }
  return (row) => stack.every((p) => p(row));
}

class Menus {
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

/**
 * Starts a fake RouterOS router on a free local port.
 *
 * @example
 * const router = await startFakeRouter({ users: { admin: 'pw' }, mode: { emptyReplies: true } });
 * // ... point a RouterOsPublisher at router.host:router.port ...
 * router.state.find('/ppp/secret', { name: 'alice' });
 * await router.close();
 * // api-ssl: startFakeRouter({ tls: { key, cert } }) or startFakeRouter({ tls: { anonymousDh: true } })
 */
export async function startFakeRouter(options: FakeRouterOptions = {}): Promise<FakeRouter> {
  const host = options.host ?? '127.0.0.1';
  const users = options.users ?? { admin: 'admin' };
  const mode: FakeRouterMode = { ...DEFAULT_MODE, ...options.mode };
  const menus = new Menus(options.profiles ?? []);
  const stats: FakeRouterStats = {
    connections: 0,
    openConnections: 0,
    logins: 0,
    failedLogins: 0,
    commands: 0,
  };
  const sockets = new Set<net.Socket>();

  const serve = (socket: net.Socket): void => {
    stats.connections++;
    stats.openConnections++;
    sockets.add(socket);
    socket.setNoDelay(true);
    // A client that resets us is normal in failure tests; never let it crash the test runner.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      stats.openConnections--;
      sockets.delete(socket);
    });
    if (mode.finBeforeLogin) {
      socket.end();
      return;
    }
    const reader = new SentenceReader();
    let loggedIn = false;
    // Sentences are handled one at a time so replies keep the order commands arrived in.
    let chain: Promise<void> = Promise.resolve();
    socket.on('data', (chunk) => {
      let sentences: string[][];
      try {
        sentences = reader.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const words of sentences) {
        chain = chain
          .then(() => handle(words))
          .catch(() => {
            socket.destroy();
          });
      }
    });

    const send = async (reply: Reply, tag: string | undefined): Promise<void> => {
      if (mode.delayMs > 0) await new Promise((r) => setTimeout(r, mode.delayMs));
      if (socket.destroyed || mode.silent) return;
      // The reply word comes first, then the tag: node-routeros files a sentence under the
      // tag seen since the previous reply word.
      const tagged = reply.map((s) => (tag === undefined ? s : [s[0]!, `.tag=${tag}`, ...s.slice(1)]));
      socket.write(Buffer.concat(tagged.map(encodeSentence)));
    };

    const trap = (error: TrapReply): Reply => [
      [
        '!trap',
        ...(error.category === undefined ? [] : [`=category=${error.category}`]),
        `=message=${error.message}`,
      ],
      ['!done'],
    ];

    async function handle(words: string[]): Promise<void> {
      if (mode.silent) return;
      const tagWord = words.find((w) => w.startsWith('.tag='));
      const tag = tagWord?.slice(5);
      const command = words[0]!;
      const rest = words.slice(1).filter((w) => w !== tagWord);
      if (!loggedIn) {
        if (command !== '/login') {
          await send(trap(new TrapReply('not logged in', 5)), tag);
          return;
        }
        const { name, password } = attributesOf(rest);
        if (
          mode.refuseLogins ||
          name === undefined ||
          users[name] === undefined ||
          users[name] !== password
        ) {
          stats.failedLogins++;
          await send(trap(new TrapReply('invalid user name or password (6)')), tag);
          return;
        }
        loggedIn = true;
        stats.logins++;
        await send([['!done']], tag);
        return;
      }
      if (command === '#') {
        await send([['!done']], tag);
        return;
      }
      stats.commands++;
      if (mode.drop) {
        if (mode.drop === 'rst') resetSocket(socket);
        else socket.end();
        return;
      }
      if (mode.fatal || command === '/quit') {
        const reason = mode.fatal || 'session terminated on request';
        socket.end(Buffer.concat([encodeSentence(['!fatal', reason])]));
        return;
      }
      if (command === '/cancel') {
        await send([['!done']], tag);
        return;
      }
      if (mode.trap && mode.trap.command === command) {
        const configured = mode.trap;
        if (configured.times !== undefined && --configured.times <= 0) mode.trap = undefined;
        await send(trap(new TrapReply(configured.message, configured.category)), tag);
        return;
      }
      let result: { reply: Reply; wrote: boolean };
      try {
        result = menus.run(command, rest, mode.readOnly);
      } catch (error) {
        if (!(error instanceof TrapReply)) throw error;
        await send(trap(error), tag);
        return;
      }
      if (result.wrote && mode.dropAfterApply > 0) {
        mode.dropAfterApply--;
        resetSocket(socket);
        return;
      }
      const reply = result.reply;
      if (mode.emptyReplies && reply.length === 1 && reply[0]![0] === '!done' && command.endsWith('/print')) {
        reply.unshift(['!empty']);
      }
      await send(reply, tag);
    }
  };

  // api-ssl runs the same handler: node:tls calls it with the decrypted socket once the
  // handshake is done, so every mode, fault and menu behaves exactly as on plain api.
  const server = options.tls
    ? tls.createServer(
        'anonymousDh' in options.tls
          ? ANONYMOUS_DH_SERVER_OPTIONS
          : { key: options.tls.key, cert: options.tls.cert },
        serve,
      )
    : net.createServer(serve);

  server.listen(options.port ?? 0, host);
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;

  const dropConnections = (): void => {
    for (const socket of sockets) resetSocket(socket);
  };

  const state: FakeRouterState = {
    rows: (menu) => menus.table(menu).map((r) => ({ ...r })),
    find: (menu, where) => {
      const row = menus.table(menu).find((r) => Object.entries(where).every(([k, v]) => r[k] === v));
      return row && { ...row };
    },
    seed: (menu, fields) => menus.seed(menu, fields),
    dial: (name, address) => {
      const secret = menus.table('/ppp/secret').find((r) => r.name === name);
      if (!secret || secret.disabled === 'true') return undefined;
      const sessionAddress = address ?? secret['remote-address'] ?? '10.255.0.1';
      return menus.seed('/ppp/active', { name, service: 'pppoe', address: sessionAddress });
    },
    get log() {
      return menus.log;
    },
  };

  return {
    host,
    port,
    state,
    stats,
    mode,
    async setMode(patch) {
      const wasOffline = mode.offline;
      Object.assign(mode, patch);
      if (mode.offline && !wasOffline) {
        dropConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      } else if (!mode.offline && wasOffline) {
        server.listen(port, host);
        await once(server, 'listening');
      }
    },
    dropConnections,
    async close() {
      dropConnections();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
