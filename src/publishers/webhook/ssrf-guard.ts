import dns from 'node:dns';
import net from 'node:net';
import { buildConnector } from 'undici';
import { OutboxError, OutboxValidationError } from '../../core/foundation/errors.js';

/** Why a URL or address was refused. */
export type SsrfRefusal =
  | 'scheme'
  | 'credentials'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'unique-local'
  | 'carrier-grade-nat'
  | 'multicast'
  | 'unspecified'
  | 'documentation'
  | 'reserved'
  | 'ipv4-mapped';

/**
 * The SSRF guard refused a webhook target. The webhook publisher turns it into a
 * `PermanentPublishError` (retrying cannot help until the URL or the policy changes).
 *
 * @example
 * catch (e) { if (e instanceof SsrfBlockedError) console.log(e.reason); } // 'loopback'
 */
export class SsrfBlockedError extends OutboxError {
  readonly reason: SsrfRefusal;

  constructor(reason: SsrfRefusal, message: string) {
    super('WEBHOOK_SSRF_BLOCKED', message);
    this.reason = reason;
  }
}

type Family = 'ipv4' | 'ipv6';
type Range = readonly [network: string, prefix: number, family: Family, refusal: SsrfRefusal];

// IANA special-purpose registries (RFC 6890 and successors): everything not globally reachable.
// Lists are checked in order of each refusal's first appearance, so ::1 reads 'loopback', not 'ipv4-mapped'.
const REFUSED_RANGES: readonly Range[] = [
  ['0.0.0.0', 8, 'ipv4', 'unspecified'],
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', 'carrier-grade-nat'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.0.0.0', 24, 'ipv4', 'reserved'],
  ['192.0.2.0', 24, 'ipv4', 'documentation'],
  ['192.88.99.0', 24, 'ipv4', 'reserved'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['198.18.0.0', 15, 'ipv4', 'reserved'],
  ['198.51.100.0', 24, 'ipv4', 'documentation'],
  ['203.0.113.0', 24, 'ipv4', 'documentation'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  // IPv4-mapped/compatible and NAT64 addresses tunnel to an IPv4 target we would have to re-check;
  // refusing them outright is simpler and loses nothing a public webhook needs.
  ['::ffff:0:0', 96, 'ipv6', 'ipv4-mapped'],
  ['::', 96, 'ipv6', 'ipv4-mapped'],
  ['64:ff9b::', 96, 'ipv6', 'ipv4-mapped'],
  ['64:ff9b:1::', 48, 'ipv6', 'reserved'],
  ['100::', 64, 'ipv6', 'reserved'],
  ['2001::', 23, 'ipv6', 'reserved'],
  ['2001:db8::', 32, 'ipv6', 'documentation'],
  ['2002::', 16, 'ipv6', 'ipv4-mapped'],
  ['3fff::', 20, 'ipv6', 'documentation'],
  ['fc00::', 7, 'ipv6', 'unique-local'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['fec0::', 10, 'ipv6', 'reserved'],
  ['ff00::', 8, 'ipv6', 'multicast'],
  ['::', 8, 'ipv6', 'reserved'],
];

// One BlockList per family and refusal, so a refused address says why. Families are kept
// apart because BlockList matches IPv4 addresses against IPv4-mapped IPv6 rules and back.
const REFUSED_LISTS: Readonly<Record<Family, readonly [SsrfRefusal, net.BlockList][]>> = (() => {
  const lists = { ipv4: new Map<SsrfRefusal, net.BlockList>(), ipv6: new Map<SsrfRefusal, net.BlockList>() };
  for (const [network, prefix, family, refusal] of REFUSED_RANGES) {
    let list = lists[family].get(refusal);
    if (!list) {
      list = new net.BlockList();
      lists[family].set(refusal, list);
    }
    list.addSubnet(network, prefix, family);
  }
  return { ipv4: [...lists.ipv4], ipv6: [...lists.ipv6] };
})();

/**
 * Which kind of non-public address `ip` is, or undefined for a globally routable address.
 *
 * @example
 * classifyAddress('169.254.169.254') // 'link-local'
 * classifyAddress('93.184.216.34')   // undefined
 */
export function classifyAddress(ip: string): SsrfRefusal | undefined {
  const version = net.isIP(ip);
  if (version === 0) return 'reserved';
  const family: Family = version === 4 ? 'ipv4' : 'ipv6';
  for (const [refusal, list] of REFUSED_LISTS[family]) {
    if (list.check(ip, family)) return refusal;
  }
  return undefined;
}

/** Who may be reached despite the guard. */
export interface SsrfPolicy {
  /** Turns the address checks off (scheme and credential checks stay): for internal webhooks. */
  readonly allowPrivateNetworks?: boolean;
  /**
   * Exceptions to the address checks: host names (`hooks.internal`, `*.svc.cluster.local`),
   * addresses (`10.1.2.3`, `::1`) or CIDR ranges (`10.0.0.0/8`, `fd00::/8`).
   */
  readonly allowHosts?: readonly string[];
  /** DNS resolution, `dns.lookup` by default; inject one in tests to fake what a name resolves to. */
  readonly lookup?: net.LookupFunction;
  /**
   * How a refusal says to permit internal targets, worded for where it is read. Default: this
   * API's options (`set allowPrivateNetworks or add it to allowHosts ...`); the binary names
   * its environment variable.
   */
  readonly hint?: string;
}

/** The default advice of a refused address: the options of this API. */
export const DEFAULT_SSRF_HINT =
  'set allowPrivateNetworks or add it to allowHosts to permit internal targets';

/** How long `checkTarget` waits for DNS before leaving the check to each request. */
const TARGET_LOOKUP_TIMEOUT_MS = 2_000;

function stripBrackets(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

/**
 * Decides which webhook targets may be reached: http(s) only, no credentials in the URL,
 * and (unless allowed) no loopback, private, link-local, unique-local or reserved address,
 * checked on the literal host, on every address DNS returns, and again on the socket's
 * actual peer, so DNS rebinding between check and connect cannot slip through.
 *
 * @example
 * const guard = new SsrfGuard({ allowHosts: ['10.20.0.0/16'] });
 * guard.checkUrl(new URL('http://169.254.169.254/latest/meta-data')); // throws SsrfBlockedError
 */
export class SsrfGuard {
  readonly #allowAll: boolean;
  readonly #allowNames: readonly string[];
  readonly #allowWildcards: readonly string[];
  readonly #allowAddresses = new net.BlockList();
  readonly #resolve: net.LookupFunction;
  readonly #hint: string;

  constructor(policy: SsrfPolicy = {}) {
    this.#allowAll = policy.allowPrivateNetworks === true;
    this.#hint = policy.hint ?? DEFAULT_SSRF_HINT;
    this.#resolve = policy.lookup ?? (dns.lookup as unknown as net.LookupFunction);
    const names: string[] = [];
    const wildcards: string[] = [];
    (policy.allowHosts ?? []).forEach((entry, i) => {
      const field = `allowHosts[${i}]`;
      if (typeof entry !== 'string' || entry.trim() === '') {
        throw new OutboxValidationError(field, 'must be a host name, an IP address or a CIDR range');
      }
      const text = stripBrackets(entry.trim().toLowerCase());
      const slash = text.indexOf('/');
      if (slash >= 0) {
        const network = text.slice(0, slash);
        const prefix = Number(text.slice(slash + 1));
        const version = net.isIP(network);
        const max = version === 4 ? 32 : 128;
        if (version === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > max) {
          throw new OutboxValidationError(field, `"${entry}" is not a valid CIDR range like 10.0.0.0/8`);
        }
        this.#allowAddresses.addSubnet(network, prefix, version === 4 ? 'ipv4' : 'ipv6');
      } else if (net.isIP(text)) {
        this.#allowAddresses.addAddress(text, net.isIPv4(text) ? 'ipv4' : 'ipv6');
      } else if (text.startsWith('*.')) {
        wildcards.push(text.slice(1));
      } else {
        names.push(text.replace(/\.$/, ''));
      }
    });
    this.#allowNames = names;
    this.#allowWildcards = wildcards;
  }

  /** True when the guard has nothing to check for this host name (opt-out or allow-listed name). */
  #hostAllowed(hostname: string): boolean {
    if (this.#allowAll) return true;
    const host = stripBrackets(hostname.toLowerCase()).replace(/\.$/, '');
    return this.#allowNames.includes(host) || this.#allowWildcards.some((suffix) => host.endsWith(suffix));
  }

  /**
   * Throws `SsrfBlockedError` unless `address` (for `hostname`) may be connected to.
   *
   * @example
   * guard.checkAddress('hooks.example.com', '10.0.0.7'); // throws: private
   */
  checkAddress(hostname: string, address: string): void {
    if (this.#hostAllowed(hostname)) return;
    const refusal = classifyAddress(address);
    if (refusal === undefined) return;
    const family = net.isIPv4(address) ? 'ipv4' : 'ipv6';
    if (net.isIP(address) && this.#allowAddresses.check(address, family)) return;
    const via = stripBrackets(hostname) === address ? '' : ` (${hostname} resolved to it)`;
    throw new SsrfBlockedError(
      refusal,
      `SSRF guard refused ${address}${via}: ${refusal} address; ${this.#hint}`,
    );
  }

  /**
   * Throws `SsrfBlockedError` for a scheme other than http(s), credentials in the URL, or a
   * literal IP host that is not public. Names are checked when they resolve (see `lookup`).
   *
   * @example
   * guard.checkUrl(new URL('ftp://example.com/')); // throws: scheme
   */
  checkUrl(url: URL): void {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new SsrfBlockedError(
        'scheme',
        `SSRF guard refused scheme "${url.protocol}": only http: and https:`,
      );
    }
    if (url.username || url.password) {
      throw new SsrfBlockedError('credentials', 'SSRF guard refused a URL with credentials (user:password@)');
    }
    const host = stripBrackets(url.hostname);
    if (net.isIP(host)) this.checkAddress(host, host);
  }

  /**
   * Checks a fixed target ahead of time, as a request to it would be checked: `checkUrl`, then
   * `localhost` and `*.localhost` as loopback (RFC 6761) and any other name by resolving it.
   * Throws `SsrfBlockedError` when refused. A name that does not resolve within 2 s (or at all)
   * passes: DNS may be down at start, and every request is checked again anyway.
   *
   * @example
   * await guard.checkTarget(new URL('http://localhost:3000/hooks')); // throws: loopback
   */
  async checkTarget(url: URL): Promise<void> {
    this.checkUrl(url);
    const host = stripBrackets(url.hostname).toLowerCase().replace(/\.$/, '');
    if (net.isIP(host) || this.#hostAllowed(host)) return;
    if (host === 'localhost' || host.endsWith('.localhost')) return this.checkAddress(host, '127.0.0.1');
    let timer: NodeJS.Timeout | undefined;
    const refusal = await Promise.race([
      new Promise<unknown>((resolve) => this.lookup(host, { all: true }, (error) => resolve(error))),
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), TARGET_LOOKUP_TIMEOUT_MS);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    if (refusal instanceof SsrfBlockedError) throw refusal;
  }

  /**
   * A `net.connect`-compatible lookup that refuses the connection when any address the name
   * resolves to is not allowed (all of them: the socket may try each, happy-eyeballs style).
   *
   * @example
   * net.connect({ host: 'hooks.example.com', port: 443, lookup: guard.lookup });
   */
  readonly lookup: net.LookupFunction = (hostname, options, callback) => {
    this.#resolve(hostname, { ...options, all: true }, (error, result) => {
      if (error) return callback(error, '', 0);
      const addresses = (
        Array.isArray(result) ? result : [{ address: result, family: 4 }]
      ) as dns.LookupAddress[];
      try {
        for (const { address } of addresses) this.checkAddress(hostname, address);
      } catch (refused) {
        return callback(refused as NodeJS.ErrnoException, '', 0);
      }
      if (addresses.length === 0) {
        const notFound = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
        return callback(notFound, '', 0);
      }
      if ((options as dns.LookupOptions).all) return (callback as any)(null, addresses);
      return callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };

  /**
   * An undici connector that resolves through `lookup` and re-checks the connected socket's
   * peer address before a single byte of HTTP is written.
   *
   * @example
   * new Agent({ connect: guard.connector({ timeout: 10_000 }) });
   */
  connector(options: buildConnector.BuildOptions = {}): buildConnector.connector {
    const connect = buildConnector({ ...options, lookup: this.lookup } as buildConnector.BuildOptions);
    return (opts, callback) => {
      connect(opts, (error, socket) => {
        if (error || !socket) return callback(error ?? new Error('connect failed'), null);
        try {
          // remoteAddress is undefined only when the socket is already gone; let undici see that.
          if (socket.remoteAddress) this.checkAddress(opts.hostname, socket.remoteAddress);
        } catch (refused) {
          socket.destroy();
          return callback(refused as Error, null);
        }
        callback(null, socket);
      });
    };
  }
}
