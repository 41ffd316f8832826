import { readFileSync } from 'node:fs';
import { credsAuthenticator, type NodeConnectionOptions, nkeyAuthenticator } from '@nats-io/transport-node';
import type { NatsConnectionSettings } from './nats-publisher-options.js';

/**
 * The client's connection options for validated settings: reconnect forever (the relay
 * retries what fails meanwhile), the one authentication method given, TLS when any TLS
 * field is set. A `.creds` file is re-read on every (re)connect, so rotating it works.
 *
 * @example
 * const nc = await connect(natsConnectOptions(resolveNatsOptions(options).connection));
 */
export function natsConnectOptions(settings: NatsConnectionSettings): NodeConnectionOptions {
  const { credsFile, nkeySeed } = settings;
  const authenticator =
    credsFile !== undefined
      ? credsAuthenticator(() => readFileSync(credsFile))
      : nkeySeed !== undefined
        ? nkeyAuthenticator(new TextEncoder().encode(nkeySeed))
        : undefined;
  return {
    servers: [...settings.servers],
    name: settings.name,
    timeout: settings.connectTimeoutMs,
    reconnectTimeWait: settings.reconnectWaitMs,
    // The publisher owns its connection for its whole life: never give up reconnecting.
    maxReconnectAttempts: -1,
    ...(settings.user !== undefined ? { user: settings.user, pass: settings.pass } : {}),
    ...(settings.token !== undefined ? { token: settings.token } : {}),
    ...(authenticator ? { authenticator } : {}),
    ...(settings.tls !== undefined ? { tls: { ...settings.tls } } : {}),
  };
}
