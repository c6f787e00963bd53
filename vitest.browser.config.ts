/**
 * The browser suite: test/browser/**. Two projects —
 *   browser   *.browser.test.ts run inside Chromium (Vitest browser mode, driven by Playwright), in a
 *             cross-origin-isolated page, so SharedArrayBuffer and Web Workers are the real thing;
 *   page      *.e2e.test.ts run in Node and drive the live page (web/) in Chromium with Playwright.
 * Chromium is Debian's (`apt-get install -y chromium`): Playwright's own browser downloads cannot be
 * fetched here. SAB_ALLOC_CHROMIUM names another executable. scripts/browser-tests.mjs runs this
 * config when Chromium is there and says in one line why not when it is not.
 */
import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import { CHROMIUM_ARGS, chromiumPath } from './scripts/chromium.mjs';

const ISOLATED = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  server: { headers: ISOLATED },
  // Pre-bundled at start: discovered later in a worker's imports, Vite would re-optimise and reload
  // the test page mid-run (a flaky failure on a fresh clone, whose cache is empty).
  optimizeDeps: { include: ['comlink'] },
  test: {
    // Worker-heavy: one file at a time on 2 cores.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['test/browser/**/*.browser.test.ts'],
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({ launchOptions: { executablePath: chromiumPath(), args: CHROMIUM_ARGS } }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
      {
        extends: true,
        test: { name: 'page', include: ['test/browser/**/*.e2e.test.ts'], environment: 'node', pool: 'forks' },
      },
    ],
  },
});
