import type { LookupFunction } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PermanentPublishError } from '../../src/core/foundation/errors.js';
import { classifyAddress, SsrfBlockedError, SsrfGuard } from '../../src/publishers/webhook/ssrf-guard.js';
import type { WebhookPublisherOptions } from '../../src/publishers/webhook/webhook-options.js';
import { WebhookPublisher } from '../../src/publishers/webhook/webhook-publisher.js';
import { makeTestMessage, testContext } from '../support/publisher-contract.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** A resolver that answers every name with `address`, like a hostile or rebinding DNS server. */
function resolvesTo(address: string): LookupFunction & { calls: string[] } {
  const calls: string[] = [];
  const lookup = ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    calls.push(hostname);
    const family = address.includes(':') ? 6 : 4;
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as unknown as LookupFunction & { calls: string[] };
  lookup.calls = calls;
  return lookup;
}

let receiver: WebhookReceiver;
const publishers: WebhookPublisher[] = [];

function publisher(options: Partial<WebhookPublisherOptions>): WebhookPublisher {
  const p = new WebhookPublisher({
    url: `${receiver.url}/hooks`,
    secrets: [SECRET],
    timeoutMs: 2_000,
    ...options,
  });
  publishers.push(p);
  return p;
}

async function refusal(p: WebhookPublisher): Promise<PermanentPublishError> {
  const error = await p.publish(makeTestMessage(), testContext()).then(
    () => {
      throw new Error('expected the SSRF guard to refuse');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PermanentPublishError);
  return error as PermanentPublishError;
}

beforeAll(async () => {
  receiver = await startWebhookReceiver();
});
afterEach(async () => {
  await Promise.all(publishers.splice(0).map((p) => p.close()));
});
afterAll(() => receiver.close());

describe('classifyAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fd12:3456::1', 'unique-local'],
    ['100.64.0.1', 'carrier-grade-nat'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::ffff:127.0.0.1', 'ipv4-mapped'],
    ['::ffff:8.8.8.8', 'ipv4-mapped'],
    ['2001:db8::1', 'documentation'],
  ])('refuses %s as %s', (ip, kind) => {
    expect(classifyAddress(ip)).toBe(kind);
  });

  it.each(['8.8.8.8', '93.184.216.34', '172.32.0.1', '2606:4700:4700::1111'])(
    'lets public %s through',
    (ip) => {
      expect(classifyAddress(ip)).toBeUndefined();
    },
  );
});

describe('SSRF guard of the webhook publisher (on by default)', () => {
  it('refuses a loopback IPv4 literal before connecting', async () => {
    const from = receiver.requests.length;
    const error = await refusal(publisher({}));
    expect(error.message).toMatch(/refused 127\.0\.0\.1: loopback address/);
    expect(receiver.requests.length).toBe(from);
  });

  it.each([
    ['http://[::1]:9/hooks', /::1: loopback/],
    ['http://10.0.0.8/hooks', /10\.0\.0\.8: private/],
    ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254: link-local/],
    ['http://[::ffff:127.0.0.1]/', /ipv4-mapped/],
    ['http://0x7f.1/', /127\.0\.0\.1: loopback/],
  ])('refuses %s naming the reason', async (url, reason) => {
    expect((await refusal(publisher({ url }))).message).toMatch(reason);
  });

  it('refuses a host name that resolves to a private address, checking the address DNS returned', async () => {
    const lookup = resolvesTo('127.0.0.1');
    const from = receiver.requests.length;
    const error = await refusal(
      publisher({ url: `http://hooks.customer.test:${receiver.port}/hooks`, lookup }),
    );
    expect(error.message).toMatch(/refused 127\.0\.0\.1 \(hooks\.customer\.test resolved to it\): loopback/);
    expect(lookup.calls).toEqual(['hooks.customer.test']);
    expect(receiver.requests.length).toBe(from);
  });

  it('refuses 10/8 through DNS too', async () => {
    const error = await refusal(
      publisher({ url: 'http://internal.test/hooks', lookup: resolvesTo('10.9.8.7') }),
    );
    expect(error.message).toMatch(/10\.9\.8\.7 .*private/);
  });

  it('refuses resolveUrl answers with another scheme or credentials', async () => {
    const ftp = await refusal(publisher({ url: undefined, resolveUrl: () => 'ftp://example.com/x' }));
    expect(ftp.message).toMatch(/scheme "ftp:"/);
    const creds = await refusal(publisher({ url: undefined, resolveUrl: () => 'https://u:p@example.com/x' }));
    expect(creds.message).toMatch(/credentials/);
  });

  it('re-checks the peer of the socket actually connected, whatever the name or resolver said', async () => {
    const guard = new SsrfGuard({});
    const connect = guard.connector({ timeout: 2_000 });
    const error = await new Promise<Error | null>((resolve) =>
      connect({ hostname: '127.0.0.1', protocol: 'http:', port: String(receiver.port) }, (...args) =>
        resolve(args[0]),
      ),
    );
    expect(error).toBeInstanceOf(SsrfBlockedError);
    expect((error as SsrfBlockedError).reason).toBe('loopback');
  });
});

describe('SSRF guard opt-outs', () => {
  it('allowPrivateNetworks lets loopback literals and names that resolve to them through', async () => {
    await expect(
      publisher({ allowPrivateNetworks: true }).publish(makeTestMessage(), testContext()),
    ).resolves.toEqual({
      status: 200,
    });
    const lookup = resolvesTo('127.0.0.1');
    const named = publisher({
      allowPrivateNetworks: true,
      url: `http://receiver.test:${receiver.port}/named`,
      lookup,
    });
    const from = receiver.requests.length;
    await expect(named.publish(makeTestMessage(), testContext())).resolves.toEqual({ status: 200 });
    expect(receiver.requests[from]?.headers.host).toBe(`receiver.test:${receiver.port}`);
  });

  it('allowHosts opens only the listed names, addresses and ranges', async () => {
    const lookup = resolvesTo('127.0.0.1');
    const url = `http://receiver.test:${receiver.port}/hooks`;
    await expect(
      publisher({ url, lookup, allowHosts: ['receiver.test'] }).publish(makeTestMessage(), testContext()),
    ).resolves.toEqual({ status: 200 });
    await expect(
      publisher({ url, lookup, allowHosts: ['*.test'] }).publish(makeTestMessage(), testContext()),
    ).resolves.toEqual({ status: 200 });
    await expect(
      publisher({ allowHosts: ['127.0.0.0/8'] }).publish(makeTestMessage(), testContext()),
    ).resolves.toEqual({ status: 200 });
    await refusal(publisher({ url, lookup, allowHosts: ['other.test', '10.0.0.0/8'] }));
  });

  it('still refuses other schemes and credentials with allowPrivateNetworks', async () => {
    const p = publisher({
      allowPrivateNetworks: true,
      url: undefined,
      resolveUrl: () => 'gopher://127.0.0.1/',
    });
    expect((await refusal(p)).message).toMatch(/scheme/);
  });
});

describe('refusals speak the language of where they are read', () => {
  it('names the library options by default, and the caller’s words when it passes hints', async () => {
    const lookup = resolvesTo('10.9.8.7');
    const library = await refusal(publisher({ url: 'http://internal.test/hooks', lookup }));
    expect(library.message).toMatch(/private address; set allowPrivateNetworks or add it to allowHosts/);
    const binary = await refusal(
      publisher({
        url: 'http://internal.test/hooks',
        lookup,
        hints: {
          privateAddress: 'set OUTBOX_WEBHOOK_ALLOW_PRIVATE=true to let webhooks reach internal addresses',
        },
      }),
    );
    expect(binary.message).toMatch(/private address; set OUTBOX_WEBHOOK_ALLOW_PRIVATE=true to let webhooks/);
    expect(binary.message).not.toContain('allowPrivateNetworks');
  });
});

describe('checkTargets: a fixed URL is refused before any message', () => {
  it.each([
    ['http://127.0.0.1:3000/hooks', undefined, /127\.0\.0\.1: loopback/],
    ['http://localhost:3000/hooks', undefined, /127\.0\.0\.1 \(localhost resolved to it\): loopback/],
    ['http://api.localhost/hooks', undefined, /loopback/],
    [
      'http://hooks.internal.test/x',
      '10.1.2.3',
      /10\.1\.2\.3 \(hooks\.internal\.test resolved to it\): private/,
    ],
  ])('refuses %s', async (url, resolved, reason) => {
    const p = publisher({ url, ...(resolved ? { lookup: resolvesTo(resolved) } : {}) });
    const error = await p.checkTargets().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SsrfBlockedError);
    expect((error as Error).message).toMatch(reason);
  });

  it('passes public targets, allowed ones, and names DNS cannot resolve (each request checks again)', async () => {
    await publisher({ url: 'https://93.184.216.34/hooks' }).checkTargets();
    await publisher({ url: 'http://127.0.0.1:3000/hooks', allowPrivateNetworks: true }).checkTargets();
    await publisher({ url: 'http://db.internal.test/x', allowHosts: ['db.internal.test'] }).checkTargets();
    const failing = ((_h: string, _o: unknown, callback: (e: Error) => void) =>
      callback(
        Object.assign(new Error('getaddrinfo EAI_AGAIN'), { code: 'EAI_AGAIN' }),
      )) as unknown as LookupFunction;
    await publisher({ url: 'http://down.test/x', lookup: failing }).checkTargets();
  });
});
