import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPublishers } from '../../src/cli/runtime/build-publishers.js';
import { loadConfig, redactConfig } from '../../src/cli/config/load-config.js';
import { ConfigError } from '../../src/core/foundation/errors.js';
import { NOOP_LOGGER } from '../../src/core/foundation/logger.js';
import { NatsPublisher } from '../../src/publishers/nats/nats-publisher.js';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

async function buildProblems(env: Record<string, string>): Promise<readonly string[]> {
  try {
    const publishers = await buildPublishers(loadConfig(env).config, { logger: NOOP_LOGGER });
    for (const p of new Set(Object.values(publishers))) await p.close?.();
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

const SEED = 'SUAIBDPBAUTWCWBKIO6XHQNINK5FWJW4OHLXC3HQ2KFE4PEJUA44CNHTC4';

describe('NATS settings of the binary', () => {
  it('requires NATS_URL when OUTBOX_PUBLISHER_TYPE includes nats', () => {
    expect(problemsOf({ OUTBOX_PUBLISHER_TYPE: 'console,nats' })).toEqual([
      'NATS_URL is required when OUTBOX_PUBLISHER_TYPE includes nats',
    ]);
  });

  it('reports every NATS problem at once, never echoing a secret', () => {
    const problems = problemsOf({
      OUTBOX_PUBLISHER_TYPE: 'nats',
      NATS_URL: 'http://nats.internal:4222,nats://ok:4222',
      NATS_SUBJECT_PREFIX: 'has space',
      NATS_NKEY_SEED: 'not-a-seed-but-secret',
      NATS_USER: 'relay',
      NATS_TIMEOUT_MS: '0',
      NATS_TLS_CERT: '/etc/nats/client.pem',
    });
    expect(problems).toEqual([
      'NATS_URL must be a comma list of nats:// or tls:// URLs (or host:port), 1 of 2 not',
      'NATS_NKEY_SEED must be a user NKey seed (starts with SU)',
      'NATS_SUBJECT_PREFIX "has space" cannot start a NATS subject: it contains whitespace or NUL',
      'NATS_TIMEOUT_MS must be an integer 1..600000, got "0"',
      'NATS_PASSWORD is required with NATS_USER',
      'NATS_TLS_KEY is required with NATS_TLS_CERT',
    ]);
    expect(problems.join('\n')).not.toContain('not-a-seed-but-secret');
  });

  it('redacts the token, password, seed and a password inside NATS_URL in `config`', () => {
    const { config } = loadConfig({
      OUTBOX_PUBLISHER_TYPE: 'nats',
      NATS_URL: 'nats://relay:url-secret@nats-1:4222,nats-2:4222',
      NATS_TOKEN: 'token-secret',
      NATS_PASSWORD: 'password-secret',
      NATS_USER: 'relay',
      NATS_NKEY_SEED: SEED,
    });
    const shown = JSON.stringify(redactConfig(config));
    for (const secret of ['url-secret', 'token-secret', 'password-secret', SEED])
      expect(shown).not.toContain(secret);
    expect(redactConfig(config).natsServers).toEqual(['nats://relay:***@nats-1:4222', 'nats-2:4222']);
  });

  it('builds the nats publisher, routing destination "nats" and "default" to it', async () => {
    const { config } = loadConfig({ OUTBOX_PUBLISHER_TYPE: 'nats', NATS_URL: 'nats://127.0.0.1:4222' });
    const publishers = await buildPublishers(config, { logger: NOOP_LOGGER });
    expect(publishers.nats).toBeInstanceOf(NatsPublisher);
    expect(publishers.default).toBe(publishers.nats);
    await publishers.nats?.close?.();
  });

  it('names the variables when the publisher refuses the combination', async () => {
    expect(
      await buildProblems({
        OUTBOX_PUBLISHER_TYPE: 'nats',
        NATS_URL: 'nats://127.0.0.1:4222',
        NATS_TOKEN: 't',
        NATS_USER: 'u',
        NATS_PASSWORD: 'p',
      }),
    ).toEqual([
      'nats publisher: NATS_CREDS_FILE / NATS_NKEY_SEED / NATS_TOKEN / NATS_USER: give one authentication method, got user/pass and token',
    ]);
    const missing = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nats-settings-')), 'absent.creds');
    const problems = await buildProblems({
      OUTBOX_PUBLISHER_TYPE: 'nats',
      NATS_URL: 'nats://127.0.0.1:4222',
      NATS_CREDS_FILE: missing,
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^nats publisher: NATS_CREDS_FILE: cannot read ".*absent\.creds": ENOENT/);
  });
});
