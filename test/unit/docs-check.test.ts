import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTING_LIST } from '../../src/cli/config/settings.js';
import * as relay from '../../src/core/relay/index.js';
import * as inbox from '../../src/inbox/index.js';
import * as main from '../../src/index.js';
import * as jobs from '../../src/jobs/index.js';
import * as nats from '../../src/publishers/nats/index.js';
import * as routeros from '../../src/publishers/routeros/index.js';
import * as webhook from '../../src/publishers/webhook/index.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** README.md and every Markdown file under docs/. */
function markdownFiles(): string[] {
  const walk = (dir: string): string[] =>
    fs.existsSync(dir)
      ? fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
          const p = path.join(dir, e.name);
          return e.isDirectory() ? walk(p) : e.name.endsWith('.md') ? [p] : [];
        })
      : [];
  return [path.join(ROOT, 'README.md'), ...walk(path.join(ROOT, 'docs'))];
}

/**
 * Names in backticks that are not our settings, on purpose: the seed systems' own variables
 * (mapped in docs/migrating/), other tools' variables, and the test harness's.
 */
const FOREIGN_ENV = new Set([
  // seed 000 (Supabase worker), 001 (BullMQ), 002 (Go NATS), 003 (worker process), 004 (Express)
  'SUPABASE_URL',
  'SUPABASE_SERVICE_KEY',
  'DB_ENABLED',
  'DB_HOST',
  'DB_PORT',
  'DB_NAME',
  'DB_USER',
  'DB_PASSWORD',
  'REDIS_URL',
  'TWILIO_VOICE_URL',
  'NODE_ENV',
  'JOB_RUNNER_INTERVAL_MS',
  'PAYOUT_CRON',
  // other tools and the test harness
  'DEBIAN_FRONTEND',
  'OUTBOX_TEST_DB',
  'OUTBOX_TEST_NATS',
]);

/** Upper-case words in backticks that are not variables: error codes, SQL, a client's debug switch. */
const NOT_ENV = new Set([
  'CONFIG_INVALID',
  'CREDENTIALS_INVALID',
  'INBOX_NOT_IN_TRANSACTION',
  'MIGRATION_FAILED',
  'MIGRATION_LOCK_TIMEOUT',
  'SCHEMA_TOO_NEW',
  'SCHEMA_TOO_OLD',
  'OUTBOX_VALIDATION',
  'PUBLISH_PERMANENT',
  'PUBLISH_TRANSIENT',
  'ROS_LOGIN_REJECTED',
  'ROS_TRANSPORT',
  'ROS_TRAP',
  // network error codes the attempt log records (docs/attempts.md)
  'ECONNREFUSED',
  'UND_ERR_HEADERS_TIMEOUT',
  'INSERT',
  'UPDATE',
  'NOTIFY',
  'DEBUG',
  // the seeds' states, job names and stream names
  'CALL_CASE',
  'PROVISIONING',
  'PENDING',
  'IN_PROGRESS',
  'DONE',
  'FAILED',
]);

/** Settings and their aliases, plus every constant the package exports (`BUSY_POLL_INTERVAL_MS`). */
const KNOWN = new Set([
  ...SETTING_LIST.flatMap((s) => [s.env, ...(s.aliases ?? [])]),
  ...[main, relay, inbox, jobs, nats, routeros, webhook].flatMap((entry) => Object.keys(entry)),
]);

describe('docs', () => {
  it('has no broken relative link in README.md or docs/**/*.md', () => {
    const broken: string[] = [];
    for (const file of markdownFiles()) {
      const text = fs.readFileSync(file, 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target!) || target!.startsWith('#')) continue;
        const local = decodeURIComponent(target!.split('#')[0]!);
        if (!fs.existsSync(path.resolve(path.dirname(file), local)))
          broken.push(`${path.relative(ROOT, file)}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('names only variables the settings table knows (or that are listed as foreign)', () => {
    const unknown: string[] = [];
    for (const file of markdownFiles()) {
      const text = fs.readFileSync(file, 'utf8');
      for (const [, span] of text.matchAll(/`([^`\n]+)`/g)) {
        // A whole code span that is a NAME or NAME=value: how docs name a variable.
        const name = /^([A-Z][A-Z0-9_]{3,})(=.*)?$/.exec(span!.trim())?.[1];
        if (name && !KNOWN.has(name) && !FOREIGN_ENV.has(name) && !NOT_ENV.has(name))
          unknown.push(`${path.relative(ROOT, file)}: ${name}`);
      }
    }
    expect(unknown).toEqual([]);
  });
});
