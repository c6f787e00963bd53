#!/usr/bin/env node
// The browser suite's gate, run by `npm test` after the Node suite. With Chromium present it runs
// vitest.browser.config.ts (test/browser/**) and exits with its status. Without Chromium it prints
// one line saying the suite was skipped and how to enable it, and exits 0 — unless the caller asks
// for the browser suite (SAB_ALLOC_REQUIRE_BROWSER=1, as .ci/run does), in which case a missing
// Chromium is a failure, said in one line too.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chromiumPath, chromiumPresent } from './chromium.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const required = process.env.SAB_ALLOC_REQUIRE_BROWSER === '1';

if (!chromiumPresent()) {
  const how = `install Chromium (apt-get install -y chromium) or point SAB_ALLOC_CHROMIUM at one`;
  if (required) {
    console.error(`browser suite: FAILED — SAB_ALLOC_REQUIRE_BROWSER=1 but no Chromium at ${chromiumPath()}; ${how}`);
    process.exit(1);
  }
  console.log(`browser suite: skipped — no Chromium at ${chromiumPath()}; ${how}, then npm test runs it`);
  process.exit(0);
}

const vitest = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));
const r = spawnSync(process.execPath, [vitest, 'run', '--config', 'vitest.browser.config.ts', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
