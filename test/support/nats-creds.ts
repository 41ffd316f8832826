import { createHash } from 'node:crypto';
import { nkeys } from '@nats-io/transport-node';

type KeyPair = ReturnType<typeof nkeys.createUser>;

const b64url = (data: string | Uint8Array) => Buffer.from(data).toString('base64url');

// RFC 4648 base32 without padding: how NATS JWTs spell their `jti`.
function base32(bytes: Uint8Array): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

/** A NATS v2 JWT (`ed25519-nkey`) with `claims.nats`, issued by `issuer` for `subject`. */
function jwt(issuer: KeyPair, subject: string, name: string, nats: Record<string, unknown>): string {
  const body = { iat: Math.floor(Date.now() / 1000), iss: issuer.getPublicKey(), name, sub: subject, nats };
  const jti = base32(createHash('sha256').update(JSON.stringify(body)).digest());
  const head = b64url(JSON.stringify({ typ: 'JWT', alg: 'ed25519-nkey' }));
  const payload = b64url(JSON.stringify({ jti, ...body }));
  const signature = b64url(issuer.sign(new TextEncoder().encode(`${head}.${payload}`)));
  return `${head}.${payload}.${signature}`;
}

/** An operator-mode (decentralized JWT auth) setup: server config text and a user's `.creds` file content. */
export interface NatsOperatorSetup {
  /** nats-server configuration: operator JWT, memory resolver preloaded with the account. */
  readonly serverConfig: string;
  /** The user's `.creds` file: JWT and NKey seed, as `nsc` writes it. */
  readonly creds: string;
}

/**
 * Makes an operator, one JetStream-enabled account and one user, signed the way `nsc` signs,
 * so tests can run nats-server in operator mode and connect with a `.creds` file.
 *
 * @example
 * const { serverConfig, creds } = natsOperatorSetup();
 */
export function natsOperatorSetup(): NatsOperatorSetup {
  const operator = nkeys.createOperator();
  const account = nkeys.createAccount();
  const system = nkeys.createAccount();
  const user = nkeys.createUser();
  const unlimited = {
    subs: -1,
    conn: -1,
    leaf: -1,
    imports: -1,
    exports: -1,
    data: -1,
    payload: -1,
    wildcards: true,
  };
  const operatorJwt = jwt(operator, operator.getPublicKey(), 'test-operator', {
    type: 'operator',
    version: 2,
    system_account: system.getPublicKey(),
  });
  const accountJwt = jwt(operator, account.getPublicKey(), 'test-account', {
    type: 'account',
    version: 2,
    limits: { ...unlimited, mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 },
  });
  const systemJwt = jwt(operator, system.getPublicKey(), 'SYS', {
    type: 'account',
    version: 2,
    limits: unlimited,
  });
  const userJwt = jwt(account, user.getPublicKey(), 'relay', {
    type: 'user',
    version: 2,
    pub: {},
    sub: {},
    subs: -1,
    data: -1,
    payload: -1,
  });
  const seed = new TextDecoder().decode(user.getSeed());
  return {
    serverConfig: `operator: ${operatorJwt}
system_account: ${system.getPublicKey()}
resolver: MEMORY
resolver_preload: {
  ${account.getPublicKey()}: ${accountJwt}
  ${system.getPublicKey()}: ${systemJwt}
}`,
    creds: `-----BEGIN NATS USER JWT-----
${userJwt}
------END NATS USER JWT------

-----BEGIN USER NKEY SEED-----
${seed}
------END USER NKEY SEED------
`,
  };
}
