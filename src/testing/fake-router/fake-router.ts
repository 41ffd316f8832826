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
