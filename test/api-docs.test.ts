/**
 * `npm run docs` stays clean: TypeDoc, strict (warnings are errors), validates that every export of
 * the three entry points is documented and every link resolves. Run with `--emit none`: the checks
 * are the point here, not the HTML. No plugin softens it: src/alloc and src/locks are held to the
 * same rule as everything else.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support/doc-blocks.js';

describe('API reference', () => {
  it('builds without a warning', () => {
    const r = spawnSync(join(ROOT, 'node_modules', '.bin', 'typedoc'), ['--emit', 'none'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    const out = r.stdout + r.stderr;
    expect(out).not.toMatch(/\[warning\]|\[error\]/);
    expect(r.status, out).toBe(0);
  }, 120_000);
});
