/**
 * A RouterOS API server we own, for tests, the bench and `outbox-relay demo`: real TCP, real
 * framing, the post-6.43 login, `.tag`, `!re/!done/!trap/!fatal`, the 7.18 `!empty` reply,
 * and in-memory menus with RouterOS' own error texts (routeros-notes.md sections 1-2), over
 * plain TCP (api, 8728) or TLS (api-ssl, 8729). It has no dependencies beyond node:net and
 * node:tls so the CLI can ship it.
 */
export type {
  FakeRouter,
  FakeRouterLogEntry,
  FakeRouterMode,
  FakeRouterOptions,
  FakeRouterState,
  FakeRouterStats,
  FakeRouterTls,
  FakeRow,
} from './fake-router.js';
export { startFakeRouter } from './server.js';
