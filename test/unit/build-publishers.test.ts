import { describe, expect, it } from 'vitest';
import { NOOP_LOGGER } from '../../src/core/foundation/logger.js';
import { ConfigError } from '../../src/core/foundation/errors.js';
import { buildPublishers } from '../../src/cli/runtime/build-publishers.js';
import { defaults } from '../../src/cli/config/load-config.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe('buildPublishers', () => {
  it('builds each configured type under its name, the first also as default', async () => {
    const publishers = await buildPublishers(
      {
        ...defaults({ isTty: false }),
        publisherTypes: ['webhook', 'console'],
        webhookUrl: 'https://example.com/hook',
        webhookSecrets: [SECRET],
      },
      { logger: NOOP_LOGGER },
    );
    expect(Object.keys(publishers).sort()).toEqual(['console', 'default', 'webhook']);
    expect(publishers.default).toBe(publishers.webhook);
    await Promise.all([publishers.webhook?.close?.(), publishers.console?.close?.()]);
  });

  it('turns every publisher option error into one ConfigError naming the publisher', async () => {
    const build = buildPublishers(
      { ...defaults({ isTty: false }), publisherTypes: ['webhook', 'routeros'], webhookSecrets: [SECRET] },
      { logger: NOOP_LOGGER },
    );
    await expect(build).rejects.toBeInstanceOf(ConfigError);
    const problems = await build.then(
      () => [],
      (error: ConfigError) => error.problems,
    );
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^webhook publisher: /);
    expect(problems[1]).toBe(
      'routeros publisher: the routeros publisher needs DATABASE_URL (devices are read from the registry)',
    );
  });
});

describe('buildPublishers and the SSRF guard', () => {
  const webhookConfig = (url: string, allowPrivate = false) => ({
    ...defaults({ isTty: false }),
    publisherTypes: ['webhook' as const],
    webhookUrl: url,
    webhookSecrets: [SECRET],
    webhookAllowPrivate: allowPrivate,
  });

  it.each(['http://127.0.0.1:3000/hooks?token=abc', 'http://localhost:3000/hooks?token=abc'])(
    'refuses the private OUTBOX_WEBHOOK_URL %s at start, naming the variable that allows it',
    async (url) => {
      const problems = await buildPublishers(webhookConfig(url), { logger: NOOP_LOGGER }).then(
        () => [],
        (error: ConfigError) => error.problems,
      );
      expect(problems).toEqual([
        expect.stringMatching(
          /^webhook publisher: OUTBOX_WEBHOOK_URL http:\/\/(127\.0\.0\.1|localhost):3000\/hooks: SSRF guard refused 127\.0\.0\.1.*: loopback address; set OUTBOX_WEBHOOK_ALLOW_PRIVATE=true to let webhooks reach internal addresses$/,
        ),
      ]);
      expect(problems[0]).not.toContain('token=abc');
    },
  );

  it('builds it with OUTBOX_WEBHOOK_ALLOW_PRIVATE=true', async () => {
    const publishers = await buildPublishers(webhookConfig('http://127.0.0.1:3000/hooks', true), {
      logger: NOOP_LOGGER,
    });
    expect(Object.keys(publishers).sort()).toEqual(['default', 'webhook']);
    await publishers.webhook?.close?.();
  });
});
