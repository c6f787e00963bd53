import { defineConfig } from 'vitest/config';

// Worker-heavy suites spawn real worker_threads that need both cores: files run one at a time.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The browser suite runs in Chromium under its own config (vitest.browser.config.ts).
    exclude: ['test/browser/**', '**/node_modules/**'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
  },
});
