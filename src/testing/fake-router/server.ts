import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import type {
  FakeRouter,
  FakeRouterMode,
  FakeRouterOptions,
  FakeRouterState,
  FakeRouterStats,
} from './fake-router.js';
import { Menus } from './menus.js';
import { resetSocket, serveSession } from './session.js';

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

  // api-ssl runs the same handler: node:tls calls it with the decrypted socket once the
  // handshake is done, so every mode, fault and menu behaves exactly as on plain api.
  const serve = (socket: net.Socket): void => serveSession(socket, { mode, users, menus, stats, sockets });
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
