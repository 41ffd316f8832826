import { BODY_FORMATS } from '../../core/foundation/body-format.js';
import { oneOf } from './setting-parsers.js';
import { DEFAULT_NATS_TIMEOUT_MS } from '../../publishers/nats/nats-publisher-options.js';
import { DEFAULT_NATS_SUBJECT_PREFIX } from '../../publishers/nats/nats-subject.js';
import { natsNkeySeed, natsServers, natsSubject, natsSubjectPrefix } from './nats-setting-parsers.js';
import { hidden, redactUrl, setting } from './setting.js';
import { integer, text } from './setting-parsers.js';

/**
 * The settings of the NATS JetStream publisher (`OUTBOX_PUBLISHER_TYPE=nats`), part of
 * `SETTINGS` in help order.
 */
export const NATS_SETTINGS = {
  natsServers: setting({
    env: 'NATS_URL',
    flag: 'nats-url',
    parse: natsServers,
    default: undefined,
    redact: (servers) => servers.map((s) => (URL.canParse(s) ? redactUrl(s) : s)),
    description: 'NATS server URL(s), comma-separated (required with the nats publisher)',
  }),
  natsCredsFile: setting({
    env: 'NATS_CREDS_FILE',
    flag: 'nats-creds-file',
    parse: text({ min: 1, rule: 'a file path' }),
    default: undefined,
    description: 'NATS .creds file (JWT + NKey seed), re-read on every reconnect',
  }),
  natsNkeySeed: setting({
    env: 'NATS_NKEY_SEED',
    flag: 'nats-nkey-seed',
    parse: natsNkeySeed,
    default: undefined,
    redact: hidden,
    description: 'NATS user NKey seed (SU...) for NKey authentication',
  }),
  natsToken: setting({
    env: 'NATS_TOKEN',
    flag: 'nats-token',
    parse: text({ min: 1, rule: 'a non-empty token' }),
    default: undefined,
    redact: hidden,
    description: 'NATS token authentication',
  }),
  natsUser: setting({
    env: 'NATS_USER',
    flag: 'nats-user',
    parse: text({ min: 1, rule: 'a non-empty user name' }),
    default: undefined,
    description: 'NATS user (with NATS_PASSWORD)',
  }),
  natsPassword: setting({
    env: 'NATS_PASSWORD',
    flag: 'nats-password',
    parse: text({ min: 1, rule: 'a non-empty password' }),
    default: undefined,
    redact: hidden,
    description: 'NATS password (with NATS_USER)',
  }),
  natsTlsCa: setting({
    env: 'NATS_TLS_CA',
    flag: 'nats-tls-ca',
    parse: text({ min: 1, rule: 'a file path' }),
    default: undefined,
    description: 'PEM file of the CA that signed the NATS server certificate (turns TLS on)',
  }),
  natsTlsCert: setting({
    env: 'NATS_TLS_CERT',
    flag: 'nats-tls-cert',
    parse: text({ min: 1, rule: 'a file path' }),
    default: undefined,
    description: 'client certificate (PEM file) for NATS servers that verify clients (with NATS_TLS_KEY)',
  }),
  natsTlsKey: setting({
    env: 'NATS_TLS_KEY',
    flag: 'nats-tls-key',
    parse: text({ min: 1, rule: 'a file path' }),
    default: undefined,
    description: 'client key (PEM file) of NATS_TLS_CERT',
  }),
  natsSubjectPrefix: setting({
    env: 'NATS_SUBJECT_PREFIX',
    flag: 'nats-subject-prefix',
    parse: natsSubjectPrefix,
    default: DEFAULT_NATS_SUBJECT_PREFIX,
    description: 'subject of destination "nats" is <prefix>.<type>; "nats:<subject>" names its own',
  }),
  natsExpectStream: setting({
    env: 'NATS_EXPECT_STREAM',
    flag: 'nats-expect-stream',
    parse: text({ min: 1, rule: 'a stream name' }),
    default: undefined,
    description: 'publish only into this stream (Nats-Expected-Stream); other streams dead-letter',
  }),
  natsFormat: setting({
    env: 'NATS_FORMAT',
    flag: 'nats-format',
    parse: oneOf(BODY_FORMATS),
    default: 'payload',
    description: `NATS message body: ${BODY_FORMATS.join(', ')} (see Body formats)`,
  }),
  natsDeadLetterSubject: setting({
    env: 'NATS_DEAD_LETTER_SUBJECT',
    flag: 'nats-dead-letter-subject',
    parse: natsSubject,
    default: undefined,
    description:
      'also publish every message that dies to this subject (seed 002 DLQ), Nats-Msg-Id <id>:dead:<attempts>; needs nats in OUTBOX_PUBLISHER_TYPE',
  }),
  natsTimeoutMs: setting({
    env: 'NATS_TIMEOUT_MS',
    flag: 'nats-timeout-ms',
    parse: integer({ min: 1, max: 600_000 }),
    default: DEFAULT_NATS_TIMEOUT_MS,
    description: 'how long a publish waits for the JetStream PubAck',
  }),
};
