import { OutboxValidationError } from '../../core/foundation/errors.js';
import { resolveRetryPolicy } from '../../core/relay/retry-policy.js';
import type { CliConfig } from './settings.js';

/**
 * Rules between settings that each parsed on its own, by the library's own checks, worded
 * with the variables' names. `loadConfig` lists them with the other problems (exit 2).
 *
 * @example
 * crossSettingProblems({ ...config, retryBaseMs: 10_000, retryMaxMs: 5_000 })
 * // ['RETRY_MAX_MS must be >= RETRY_BASE_MS, got 5000 < 10000']
 */
export function crossSettingProblems(config: CliConfig): string[] {
  const problems: string[] = [];
  try {
    resolveRetryPolicy({
      baseDelayMs: config.retryBaseMs,
      maxDelayMs: config.retryMaxMs,
      jitter: config.retryJitter,
    });
  } catch (error) {
    if (!(error instanceof OutboxValidationError)) throw error;
    // Each field was range-checked by its parser: only the order between them is left.
    problems.push(`RETRY_MAX_MS must be >= RETRY_BASE_MS, got ${config.retryMaxMs} < ${config.retryBaseMs}`);
  }
  if (config.breakerProbeMaxMs < config.breakerProbeMs) {
    problems.push(
      `BREAKER_PROBE_MAX_MS must be >= BREAKER_PROBE_MS, got ${config.breakerProbeMaxMs} < ${config.breakerProbeMs}`,
    );
  }
  if (config.natsDeadLetterSubject !== undefined && !config.publisherTypes.includes('nats')) {
    problems.push(
      'NATS_DEAD_LETTER_SUBJECT needs nats in OUTBOX_PUBLISHER_TYPE (the copies go through the NATS publisher)',
    );
  }
  return problems;
}
