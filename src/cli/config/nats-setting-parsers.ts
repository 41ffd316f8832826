import { natsSubjectProblem } from '../../publishers/nats/nats-subject.js';
import type { SettingParser } from './setting-parsers.js';

/**
 * NATS server URL(s), comma-separated: `nats://`, `tls://`, or `host:port`. A problem never
 * echoes the value (a URL may carry `user:password@`).
 *
 * @example
 * natsServers.parse({ raw: 'nats://a:4222,nats://b:4222', label: 'NATS_URL', shown: '…' })
 */
export const natsServers: SettingParser<readonly string[]> = {
  flagType: 'string',
  parse(input) {
    const list = input.raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const bad = list.filter((s) => {
      const withScheme = /^[a-z]+:\/\//i.test(s) ? s : `nats://${s}`;
      if (!URL.canParse(withScheme)) return true;
      const url = new URL(withScheme);
      return !['nats:', 'tls:'].includes(url.protocol) || url.hostname === '';
    });
    if (list.length === 0 || bad.length > 0) {
      return {
        ok: false,
        problem: `${input.label} must be a comma list of nats:// or tls:// URLs (or host:port), ${bad.length > 0 ? `${bad.length} of ${list.length} not` : 'got none'}`,
      };
    }
    return { ok: true, value: list };
  },
};

/**
 * A subject prefix the default subject `<prefix>.<type>` can start with.
 *
 * @example
 * natsSubjectPrefix.parse({ raw: 'events.billing', label: 'NATS_SUBJECT_PREFIX', shown: '"events.billing"' })
 */
export const natsSubjectPrefix: SettingParser<string> = {
  flagType: 'string',
  parse(input) {
    const value = input.raw.trim();
    const problem = natsSubjectProblem(`${value}.x`);
    return problem === undefined
      ? { ok: true, value }
      : { ok: false, problem: `${input.label} ${input.shown} cannot start a NATS subject: it ${problem}` };
  },
};

/** A full subject without wildcards (NATS_DEAD_LETTER_SUBJECT), by the publisher's own rule. */
export const natsSubject: SettingParser<string> = {
  flagType: 'string',
  parse(input) {
    const value = input.raw.trim();
    const problem = natsSubjectProblem(value);
    return problem === undefined
      ? { ok: true, value }
      : { ok: false, problem: `${input.label} ${input.shown} ${problem}` };
  },
};

/**
 * A user NKey seed (`SU…`); the problem never echoes it.
 *
 * @example
 * natsNkeySeed.parse({ raw: 'SUAM…', label: 'NATS_NKEY_SEED', shown: '[redacted]' })
 */
export const natsNkeySeed: SettingParser<string> = {
  flagType: 'string',
  parse(input) {
    const value = input.raw.trim();
    return /^SU[A-Z2-7]{20,}$/.test(value)
      ? { ok: true, value }
      : { ok: false, problem: `${input.label} must be a user NKey seed (starts with SU)` };
  },
};
