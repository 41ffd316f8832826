import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PermanentPublishError, TransientPublishError } from '../../src/core/foundation/errors.js';
import type { OutboxMessage } from '../../src/core/foundation/message.js';
import type { DeviceConfig, DeviceTlsOptions } from '../../src/publishers/routeros/device-config.js';
import { RouterOsPublisher } from '../../src/publishers/routeros/routeros-publisher.js';
import { type FakeRouter, type FakeRouterTls, startFakeRouter } from '../../src/testing/fake-router/index.js';
import { makeTestMessage, testContext } from '../support/publisher-contract.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/tls/${name}`, import.meta.url), 'utf8');
/** The fake router's self-signed certificate (CN fake-router.test, SAN 127.0.0.1 and localhost). */
const ROUTER_CERT = fixture('router-cert.pem');
const ROUTER_KEY = fixture('router-key.pem');
/** An unrelated self-signed certificate: trusting or pinning it must not let us talk to the router. */
const OTHER_CERT = fixture('other-cert.pem');
const ROUTER_FINGERPRINT = new X509Certificate(ROUTER_CERT).fingerprint256;
const OTHER_FINGERPRINT = new X509Certificate(OTHER_CERT).fingerprint256;

const PASSWORD = 'tls-secret-pw';

/** `address-list.add` for device tower-1, as `outbox.addCommand` would produce it. */
function addAddress(address: string): OutboxMessage {
  const payload = { list: 'tls', address };
  return makeTestMessage({
    kind: 'command',
    type: 'address-list.add',
    payload,
    body: JSON.stringify(payload),
    destination: 'routeros:tower-1',
    orderingKey: 'tower-1',
  });
}

/**
 * Records the plaintext node-routeros writes into the TLS sockets it opens from now on (it
 * calls `tls.connect` and then `socket.write` once per word). Checked on our side because
 * the router cannot be relied on to see it: a client that destroys its socket with unread
 * data (TLS 1.3 session tickets) sends a RST, and the router's kernel drops what it had
 * not read yet.
 */
function recordTlsWrites(): string[] {
  const chunks: string[] = [];
  const connect = tls.connect as (...args: unknown[]) => tls.TLSSocket;
  vi.spyOn(tls, 'connect').mockImplementation(((...args: unknown[]) => {
    const socket = connect(...args);
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    socket.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      chunks.push(Buffer.from(chunk).toString('latin1'));
      return write(chunk, ...rest);
    }) as typeof socket.write;
    return socket;
  }) as typeof tls.connect);
  return chunks;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('RouterOS over api-ssl (TLS)', () => {
  let router: FakeRouter | undefined;
  let publisher: RouterOsPublisher | undefined;

  afterEach(async () => {
    vi.restoreAllMocks();
    await publisher?.close();
    await router?.close();
    publisher = undefined;
    router = undefined;
  });

  /** A TLS fake router and a publisher pointed at it with `tls` (port always explicit, notes 3.6). */
  async function setUp(serverTls: FakeRouterTls, clientTls: boolean | DeviceTlsOptions) {
    router = await startFakeRouter({ tls: serverTls, users: { api: PASSWORD } });
    const device: DeviceConfig = {
      name: 'tower-1',
      host: router.host,
      port: router.port,
      tls: clientTls,
      username: 'api',
      password: PASSWORD,
    };
    publisher = new RouterOsPublisher({
      devices: [device],
      connectTimeoutMs: 3_000,
      commandTimeoutMs: 3_000,
    });
    return { router, publisher };
  }

  const withCert: FakeRouterTls = { key: ROUTER_KEY, cert: ROUTER_CERT };

  it('delivers to a router whose self-signed certificate is given as the CA', async () => {
    const { router, publisher } = await setUp(withCert, { ca: ROUTER_CERT });
    await publisher.publish(addAddress('10.0.0.1'), testContext());
    expect(
      router.state.find('/ip/firewall/address-list', { list: 'tls', address: '10.0.0.1' }),
    ).toBeDefined();
    expect(router.stats.logins).toBe(1);
  });

  it('reuses one TLS connection for several commands', async () => {
    const { router, publisher } = await setUp(withCert, { ca: ROUTER_CERT });
    await publisher.publish(addAddress('10.0.0.1'), testContext());
    await publisher.publish(addAddress('10.0.0.2'), testContext());
    expect(router.stats.connections).toBe(1);
    expect(router.state.rows('/ip/firewall/address-list')).toHaveLength(2);
  });

  it('delivers to a router whose certificate matches the pinned SHA-256 fingerprint', async () => {
    const { router, publisher } = await setUp(withCert, { fingerprint256: ROUTER_FINGERPRINT });
    const sent = recordTlsWrites();
    await publisher.publish(addAddress('10.0.0.1'), testContext());
    // The recorder the wrong-pin test relies on does see the login when it is sent.
    expect(sent.join('')).toContain(`=password=${PASSWORD}`);
    expect(router.state.find('/ip/firewall/address-list', { address: '10.0.0.1' })).toBeDefined();
  });

  it('accepts the pin as RouterOS prints it (lower case, no colons), with CA verification on too', async () => {
    const { router, publisher } = await setUp(withCert, {
      ca: ROUTER_CERT,
      fingerprint256: ROUTER_FINGERPRINT.replaceAll(':', '').toLowerCase(),
    });
    await publisher.publish(addAddress('10.0.0.1'), testContext());
    expect(router.stats.logins).toBe(1);
  });

  it('a wrong pin is permanent and the password is never sent to that router', async () => {
    const { router, publisher } = await setUp(withCert, { fingerprint256: OTHER_FINGERPRINT });
    const sent = recordTlsWrites();
    const error = await rejection(publisher.publish(addAddress('10.0.0.1'), testContext()));
    expect(sent.join('')).not.toContain(PASSWORD);
    expect(error).toBeInstanceOf(PermanentPublishError);
    expect(error.message).toMatch(/TLS rejected: .*fingerprint .* does not match the pinned/);
    expect(error.message).toContain(ROUTER_FINGERPRINT);
    // Closing waits for every TCP connection to end, so a login that arrived is counted by now.
    await router.close();
    expect(router.stats.logins).toBe(0);
    expect(router.stats.failedLogins).toBe(0);
    expect(router.state.rows('/ip/firewall/address-list')).toEqual([]);
    expect(publisher.openConnections).toBe(0);
  });

  it('an untrusted self-signed certificate with tls: true (system CAs) is permanent', async () => {
    const { router, publisher } = await setUp(withCert, true);
    const error = await rejection(publisher.publish(addAddress('10.0.0.1'), testContext()));
    expect(error).toBeInstanceOf(PermanentPublishError);
    expect(error.message).toMatch(/TLS rejected: .*SELF_SIGNED/);
    expect(router.stats.logins + router.stats.failedLogins).toBe(0);
  });

  it('a certificate signed by another CA than the configured one is permanent', async () => {
    const { router, publisher } = await setUp(withCert, { ca: OTHER_CERT });
    const error = await rejection(publisher.publish(addAddress('10.0.0.1'), testContext()));
    expect(error).toBeInstanceOf(PermanentPublishError);
    expect(error.message).toMatch(/TLS rejected/);
    expect(router.stats.logins + router.stats.failedLogins).toBe(0);
  });

  it('a certificate issued for another host name than servername is permanent', async () => {
    const { router, publisher } = await setUp(withCert, { ca: ROUTER_CERT, servername: 'tower-9.example' });
    const error = await rejection(publisher.publish(addAddress('10.0.0.1'), testContext()));
    expect(error).toBeInstanceOf(PermanentPublishError);
    expect(error.message).toMatch(/TLS rejected: .*ALTNAME/);
    expect(router.stats.logins + router.stats.failedLogins).toBe(0);
  });

  it('a router offering only anonymous DH, reached with tls: true, is permanent and says how to fix it', async () => {
    const { router, publisher } = await setUp({ anonymousDh: true }, true);
    const error = await rejection(publisher.publish(addAddress('10.0.0.1'), testContext()));
    expect(error).toBeInstanceOf(PermanentPublishError);
    expect(error.message).toMatch(/HANDSHAKE_FAILURE.*set tls: \{ anonymousDh: true \}/);
    expect(error.message).not.toContain('\n');
    expect(router.stats.logins + router.stats.failedLogins).toBe(0);
  });

  it('a TLS connection reset by the router is transient, and the next command reconnects', async () => {
    const { router, publisher } = await setUp(withCert, { ca: ROUTER_CERT });
    await publisher.publish(addAddress('10.0.0.1'), testContext());
    await router.setMode({ drop: 'rst' });
    const error = await rejection(publisher.publish(addAddress('10.0.0.2'), testContext()));
    expect(error).toBeInstanceOf(TransientPublishError);
    // -104 is ECONNRESET: the fake router reset the TCP connection under TLS, not just closed it.
    expect(error.message).toMatch(/errno -104/);
    await router.setMode({ drop: false });
    await publisher.publish(addAddress('10.0.0.3'), testContext());
    expect(router.stats.connections).toBe(2);
    expect(router.state.find('/ip/firewall/address-list', { address: '10.0.0.3' })).toBeDefined();
  });

  it('delivers over anonymous DH to a router whose api-ssl has no certificate', async () => {
    const { router, publisher } = await setUp({ anonymousDh: true }, { anonymousDh: true });
    await publisher.publish(addAddress('10.0.0.1'), testContext());
    expect(router.state.find('/ip/firewall/address-list', { address: '10.0.0.1' })).toBeDefined();
    expect(router.stats.logins).toBe(1);
  });
});
