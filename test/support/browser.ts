import fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

/** Debian's chromium (`.ci/run` installs it with apt when missing). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags for a quiet, offline, throwaway browser: nothing it does reaches the network but our server. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A running browser with a fresh profile; `close()` removes the profile. */
export interface TestBrowser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Starts a real Chromium through playwright-core with a fresh user-data-dir. Throws with the
 * reason when it cannot (no binary, a crash at start): a browser test must fail, never skip.
 *
 * @example
 * const browser = await startBrowser(); const page = await browser.context.newPage();
 */
export async function startBrowser(): Promise<TestBrowser> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `browser tests need Chromium at ${CHROMIUM_PATH}: install it (apt-get install chromium, as .ci/run does)`,
    );
  }
  const profile = await mkdtemp(path.join(os.tmpdir(), 'outbox-relay-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 30_000,
      viewport: { width: 1280, height: 900 },
    });
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw new Error(`could not start Chromium (${CHROMIUM_PATH}): ${(error as Error).message}`);
  }
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
