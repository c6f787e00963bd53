/**
 * The environment-neutral core: what a browser loads imports nothing from Node. Two checks.
 *
 *  1. src/shared, src/locks and src/alloc, file by file: no `node:` import, no `require`, and no use
 *     of Node's globals (`process`, `Buffer`, `__dirname`) — except the pool's Node adapter
 *     (worker-pool.ts) and watch-worker.ts, which take a worker_threads Worker. Those two are named
 *     here on purpose: a new Node-only file must be added to the list, in review.
 *  2. The browser entry point and the browser worker entries, followed through every relative
 *     import they make (type-only imports excepted: they vanish at compile time): the same rules,
 *     with no exceptions. This is what keeps a Vite build of the page free of shims.
 *
 * Comments are stripped first: a comment may talk about Node.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NODE_ADAPTERS = new Set(['src/shared/worker-pool.ts', 'src/shared/watch-worker.ts']);
const BROWSER_ENTRIES = ['src/browser/index.ts', 'src/browser/alloc-race-worker.ts', 'src/browser/lock-torture-worker.ts', 'src/browser/reproduce-worker.ts'];

function code(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** What makes a file Node-only, each with the line that shows it (empty: none). */
function nodeUses(path: string): string[] {
  const found: string[] = [];
  for (const line of code(path).split('\n')) {
    if (/from\s+['"]node:|import\(\s*['"]node:|\brequire\(/.test(line) && !/^\s*import\s+type\b/.test(line)) found.push(line.trim());
    else if (/(?<![.\w'"`])(process|Buffer|__dirname|__filename)\s*[.([]/.test(line)) found.push(line.trim());
  }
  return found;
}

/** Relative imports of `path` that exist at run time (not `import type` / `export type`). */
function runtimeImports(path: string): string[] {
  const out: string[] = [];
  const re = /^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+['"](\.[^'"]+)['"]/gm;
  const text = code(path);
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[2] !== undefined) continue;
    out.push(relative(ROOT, resolve(dirname(join(ROOT, path)), m[3]!.replace(/\.js$/, '.ts'))));
  }
  return out;
}

describe('environment-neutral core', () => {
  it('src/shared, src/locks and src/alloc use nothing of Node, but for the pool\'s Node adapter', () => {
    const files = ['src/shared', 'src/locks', 'src/alloc'].flatMap((d) => readdirSync(join(ROOT, d)).filter((f) => f.endsWith('.ts')).map((f) => `${d}/${f}`));
    expect(files.length).toBeGreaterThan(40);
    const offenders = files.filter((f) => !NODE_ADAPTERS.has(f)).map((f) => [f, nodeUses(f)] as const).filter(([, uses]) => uses.length > 0);
    expect(offenders).toEqual([]);
    // The check can fail: the Node adapter is caught by it.
    expect(nodeUses('src/shared/worker-pool.ts').length).toBeGreaterThan(0);
  });

  it('everything the browser entry point and the browser workers load is neutral', () => {
    const seen = new Set<string>();
    const queue = [...BROWSER_ENTRIES];
    while (queue.length > 0) {
      const f = queue.pop()!;
      if (seen.has(f)) continue;
      seen.add(f);
      queue.push(...runtimeImports(f));
    }
    expect(seen.size).toBeGreaterThan(40);
    expect([...seen].filter((f) => NODE_ADAPTERS.has(f) || f.startsWith('src/cli') || f.startsWith('src/bench'))).toEqual([]);
    expect([...seen].map((f) => [f, nodeUses(f)] as const).filter(([, uses]) => uses.length > 0)).toEqual([]);
  });
});
