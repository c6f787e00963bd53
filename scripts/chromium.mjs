// Where the browser suite finds Chromium, and how it starts it. Shared by vitest.browser.config.ts,
// the page test and scripts/browser-tests.mjs so that all three agree.
import { existsSync } from 'node:fs';

/** Debian's chromium package installs here; SAB_ALLOC_CHROMIUM names another executable. */
export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

export function chromiumPath() {
  return process.env.SAB_ALLOC_CHROMIUM || DEFAULT_CHROMIUM;
}

export function chromiumPresent() {
  return existsSync(chromiumPath());
}

/**
 * Headless as root in a container (no sandbox), no GPU, and nothing that phones home: this machine's
 * network is closed, and Chromium's background connections would be refused over and over.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];
