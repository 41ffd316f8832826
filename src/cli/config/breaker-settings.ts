import {
  BREAKER_OPTION_BOUNDS,
  DEFAULT_BREAKER_FAILURE_RATIO,
  DEFAULT_BREAKER_MIN_ATTEMPTS,
  DEFAULT_BREAKER_PROBE_MAX_MS,
  DEFAULT_BREAKER_PROBE_MS,
  DEFAULT_BREAKER_WINDOW_MS,
} from '../../core/relay/breaker-options.js';
import { decimal, flag, integer, text } from './setting-parsers.js';
import { setting } from './setting.js';

/**
 * The circuit breaker's settings and the ops events destination (docs/destinations.md#circuit-breaker),
 * part of `SETTINGS` in help order. Bounds and defaults are the library's (breaker-options.ts).
 */
export const BREAKER_SETTINGS = {
  breakerEnabled: setting({
    env: 'BREAKER_ENABLED',
    flag: 'breaker-enabled',
    parse: flag,
    default: true,
    description:
      'circuit breaker: a destination failing transiently at a high rate waits (no attempts used, nothing dead-lettered) and gets one probe per interval (docs/destinations.md#circuit-breaker)',
  }),
  breakerMinAttempts: setting({
    env: 'BREAKER_MIN_ATTEMPTS',
    flag: 'breaker-min-attempts',
    parse: integer(BREAKER_OPTION_BOUNDS.minAttempts),
    default: DEFAULT_BREAKER_MIN_ATTEMPTS,
    description: 'attempts to a destination within BREAKER_WINDOW_MS (per relay) before its breaker may open',
  }),
  breakerWindowMs: setting({
    env: 'BREAKER_WINDOW_MS',
    flag: 'breaker-window-ms',
    parse: integer(BREAKER_OPTION_BOUNDS.windowMs),
    default: DEFAULT_BREAKER_WINDOW_MS,
    description: 'the sliding window the breaker counts attempts in',
  }),
  breakerFailureRatio: setting({
    env: 'BREAKER_FAILURE_RATIO',
    flag: 'breaker-failure-ratio',
    parse: decimal({ min: 0.01, max: 1 }),
    default: DEFAULT_BREAKER_FAILURE_RATIO,
    description: 'share of transient failures in the window that opens the breaker (4xx answers never count)',
  }),
  breakerProbeMs: setting({
    env: 'BREAKER_PROBE_MS',
    flag: 'breaker-probe-ms',
    parse: integer(BREAKER_OPTION_BOUNDS.probeMs),
    default: DEFAULT_BREAKER_PROBE_MS,
    description: 'first probe interval of an open breaker; doubles after each failed probe',
  }),
  breakerProbeMaxMs: setting({
    env: 'BREAKER_PROBE_MAX_MS',
    flag: 'breaker-probe-max-ms',
    parse: integer(BREAKER_OPTION_BOUNDS.probeMaxMs),
    default: DEFAULT_BREAKER_PROBE_MAX_MS,
    description: 'longest probe interval (at least BREAKER_PROBE_MS)',
  }),
  opsEventsDestination: setting({
    env: 'OPS_EVENTS_DESTINATION',
    flag: 'ops-events-destination',
    parse: text({ min: 1, max: 500, rule: 'a destination name such as webhook:ops' }),
    default: undefined,
    description:
      'when set, this destination receives operational events as ordinary outbox messages: outbox.destination.opened, outbox.destination.closed, outbox.message.dead',
  }),
};
