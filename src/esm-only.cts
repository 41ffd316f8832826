// What `require('outbox-relay')` loads (package.json `exports["."].require`): the package is
// ESM-only, and without this file Node answers require() with ERR_PACKAGE_PATH_NOT_EXPORTED,
// which says nothing about why. One line that does.
throw new Error(
  "outbox-relay is ESM-only: use `import { createOutbox } from 'outbox-relay'` " +
    '(package.json "type": "module", or a .mjs/.mts file), or `await import(\'outbox-relay\')` from CommonJS',
);
