/**
 * The README's library example must run as printed: it is kept verbatim in examples/mutex.mjs
 * (importing the build instead of the package name), and this runs that file with node after the
 * build. This checks the documentation; the mutual-exclusion property itself, with its negative
 * control, is tested in lock-torture.test.ts (the example has no start barrier, so its workers need
 * not overlap and an unlocked variant would not reliably fail).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../examples/mutex.mjs', import.meta.url));

const RACE_EXAMPLE = fileURLToPath(new URL('../examples/race.mjs', import.meta.url));

function readmeBlock(file: string): string | undefined {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const marker = `<!-- example: examples/${file} -->`;
  const at = readme.indexOf(marker);
  if (at < 0) return undefined;
  return /```js\n([\s\S]*?)```/.exec(readme.slice(at))?.[1];
}

describe('README example', () => {
  it('examples/mutex.mjs runs and counts every increment', () => {
    const r = spawnSync(process.execPath, [EXAMPLE], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('counter = 200000 (expected 200000)');
  });

  it('is the code the README shows', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const block = /<!-- example: examples\/mutex\.mjs -->\s*```js\n([\s\S]*?)```/.exec(readme);
    expect(block, 'README has the marked example block').not.toBeNull();
    const file = readFileSync(EXAMPLE, 'utf8').replace("from '../dist/src/index.js'", "from 'sab-alloc'");
    expect(block![1]).toBe(file);
  });

  it('examples/race.mjs runs, shows the race unfixed and each fix refusing it, and is the README block', () => {
    const r = spawnSync(process.execPath, [RACE_EXAMPLE], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      'fix none: Task 2 got bucket 0, Task 1 got bucket 0; errors: duplicate_backpointer, foreign_allocation',
      'fix seqlock: Task 2 got bucket 0, Task 1 got bucket 1; errors: none',
      'fix keylock: Task 2 got bucket 0, Task 1 got bucket 1; errors: none',
      'bucket 0: 1 need_discard; discarded 1; fsck ok: true',
    ]);
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    // The output the README shows is this output.
    expect(readme).toContain(r.stdout.trim());
    expect(readmeBlock('race.mjs')).toBe(readFileSync(RACE_EXAMPLE, 'utf8').replace("from '../dist/src/index.js'", "from 'sab-alloc'"));
  });
});
