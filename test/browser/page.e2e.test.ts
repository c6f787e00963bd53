/**
 * The live page (web/) in Chromium, driven as a person would with Playwright: it loads cross-origin
 * isolated, runs the unfixed allocator and shows duplicates on its own counters, then — fix switched
 * on — shows none over tens of thousands of allocations; the reported interleaving's timeline names
 * the duplicate for every unfixed configuration and none for the fixed ones; served without the
 * isolation headers it says so and how to serve it. The same page built statically by Vite (no Node
 * shims) runs from a plain static server that sends the headers. Screenshots go to results/.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright';
import { build, createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, chromiumPath } from '../../scripts/chromium.mjs';
import type { LockBenchFigure } from '../../src/browser/lock-bench.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CONFIG = join(ROOT, 'web', 'vite.config.ts');
const RESULTS = join(ROOT, 'results');
const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

let vite: ViteDevServer;
let url = '';
let browser: Browser;

beforeAll(async () => {
  mkdirSync(RESULTS, { recursive: true });
  vite = await createServer({ configFile: CONFIG, server: { port: 0, strictPort: false }, logLevel: 'error' });
  await vite.listen();
  url = vite.resolvedUrls!.local[0]!;
  browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true, timeout: 60_000 });
});

afterAll(async () => {
  await browser?.close();
  await vite?.close();
});

async function open(at = url, options: { strip?: boolean } = {}): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1320, height: 1000 } });
  page.setDefaultTimeout(60_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  if (options.strip === true) {
    // The same server, minus the two headers: as a server that does not send them would serve it.
    await page.route('**/*', async (route) => {
      const response = await route.fetch();
      const headers = { ...response.headers() };
      delete headers['cross-origin-opener-policy'];
      delete headers['cross-origin-embedder-policy'];
      await route.fulfill({ response, headers });
    });
  }
  await page.goto(at);
  (page as Page & { errors?: string[] }).errors = errors;
  return page;
}

async function value(page: Page, id: string): Promise<number> {
  return Number(await page.getAttribute(`#${id}`, 'data-value'));
}

/** Waits (bounded) until the page's own counter `id` satisfies `ok`. */
async function until(page: Page, what: string, ok: () => Promise<boolean>, boundMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!(await ok())) {
    if (Date.now() - t0 > boundMs) throw new Error(`page: ${what} not seen within ${boundMs} ms`);
    await page.waitForTimeout(200);
  }
}

describe('the live page in Chromium', () => {
  it('loads cross-origin isolated; early/none shows duplicates on its counters, and with the fix on it shows none', async () => {
    const page = await open();
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(await page.getAttribute('body', 'data-isolated')).toBe('true');
    await page.selectOption('#allocator', 'early');
    await page.selectOption('#fix', 'none');
    await page.selectOption('#buckets', '128');
    await page.selectOption('#delay', '2000');
    await page.click('#run');
    await until(page, 'a duplicate allocation', async () => (await value(page, 'duplicates')) >= 3 && (await value(page, 'allocations')) >= 20_000);
    await page.waitForTimeout(300);
    // The top of the page (configuration, counters, bucket map): the README's picture.
    await page.screenshot({ path: join(RESULTS, 'web-page-racy.png'), clip: { x: 0, y: 0, width: 1320, height: 640 } });
    expect(await page.getAttribute('#status', 'data-state')).toBe('running');

    // The fix, switched on while it runs: the run restarts under it, and the duplicates stop.
    await page.selectOption('#fix', 'keylock');
    await until(page, 'the restarted run', async () => (await page.textContent('#config'))!.startsWith('early/keylock'));
    await until(page, '50 000 allocations under the fix', async () => (await value(page, 'allocations')) >= 50_000);
    expect(await value(page, 'duplicates')).toBe(0);
    await page.waitForTimeout(1200); // one more point on the duplicates-per-second strip
    await page.screenshot({ path: join(RESULTS, 'web-page.png') });
    await page.click('#stop');
    await until(page, 'the stop', async () => (await page.getAttribute('#status', 'data-state')) === 'stopped');
    expect(await page.textContent('#status')).toContain('fsck clean');
    expect((page as Page & { errors?: string[] }).errors).toEqual([]);
    await page.close();
  });

  it('the reported interleaving: a duplicate in every unfixed configuration, none under a fix', async () => {
    const page = await open();
    await until(page, 'the timelines', async () => (await page.getAttribute('body', 'data-timelines')) === 'done');
    const tabs = await page.$$eval('#timelineTabs button', (bs) => bs.map((b) => b.textContent ?? ''));
    const seen: Record<string, number> = {};
    for (let i = 0; i < tabs.length; i++) {
      await page.click(`#timelineTabs button[data-i="${i}"]`);
      seen[tabs[i]!.split(' ✓')[0]!.split(' ✗')[0]!.trim()] = Number(await page.getAttribute('#timelineBody [data-duplicates]', 'data-duplicates'));
    }
    expect(seen).toEqual({
      'early / none': 1, 'early / none + cursor fix': 1, 'early / seqlock': 0, 'early / keylock': 0, 'freelist / locked': 0, 'freelist / unlocked': 1,
    });
    await page.click('#timelineTabs button[data-i="0"]');
    // Task 1's lane shows K open twice once it has opened it after Task 2.
    expect(await page.locator('#timelineBody .step.twice').count()).toBeGreaterThan(0);
    await page.locator('#timeline').screenshot({ path: join(RESULTS, 'web-timeline.png') });
    await page.close();
  });

  it('served without the isolation headers, it says so plainly and how to serve it', async () => {
    const page = await open(url, { strip: true });
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
    const banner = page.locator('#isolation');
    await expect.poll(() => banner.isVisible()).toBe(true);
    const text = await banner.textContent();
    expect(text).toContain('not cross-origin isolated');
    expect(text).toContain('Cross-Origin-Opener-Policy: same-origin');
    expect(text).toContain('Cross-Origin-Embedder-Policy: require-corp');
    expect(text).toContain('npm run web');
    expect(await page.isDisabled('#run')).toBe(true);
    await page.close();
  });
});

describe('lock microbenchmarks, Node beside Chromium', () => {
  it('times the same loops (src/browser/lock-bench.ts) in this Node and in a Chromium page, rounds interleaved; writes results/bench-locks-browser.{json,md}', async () => {
    const page = await open();
    const module = `/@fs${join(ROOT, 'src', 'browser', 'lock-bench.ts')}`;
    const ROUNDS = 5;
    const timeMs = 40;
    const node: Record<string, number[]> = {};
    const chromium: Record<string, number[]> = {};
    for (let r = 0; r < ROUNDS; r++) {
      // Node runs the compiled module (dist/) in a plain process: inside vitest, the test's own
      // module runner would sit between every call and its import, and time itself.
      const child = spawnSync(process.execPath, ['--input-type=module', '-e',
        `import { runLockBench } from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist/src/browser/lock-bench.js')).href)}; console.log(JSON.stringify(runLockBench({ rounds: 1, timeMs: ${timeMs} })));`,
      ], { encoding: 'utf8', timeout: 60_000 });
      expect(child.status, child.stderr).toBe(0);
      for (const f of JSON.parse(child.stdout) as LockBenchFigure[]) (node[f.name] ??= []).push(f.median);
      // A string, not a function: vitest would rewrite a dynamic import() inside a function body.
      const figures = await page.evaluate(`import(${JSON.stringify(module)}).then((m) => m.runLockBench({ rounds: 1, timeMs: ${timeMs} }))`) as LockBenchFigure[];
      for (const f of figures) (chromium[f.name] ??= []).push(f.median);
    }
    await page.close();
    const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    const rows = Object.keys(node).map((name) => ({
      name,
      node: { median: med(node[name]!), min: Math.min(...node[name]!), max: Math.max(...node[name]!) },
      chromium: { median: med(chromium[name]!), min: Math.min(...chromium[name]!), max: Math.max(...chromium[name]!) },
    }));
    for (const row of rows) {
      for (const f of [row.node, row.chromium]) {
        expect(Number.isFinite(f.median), row.name).toBe(true);
        expect(f.median, row.name).toBeGreaterThan(0);
      }
    }
    const versions = { node: process.version, chromium: browser.version() };
    const fmt = (f: { median: number; min: number; max: number }): string => `${f.median.toFixed(1)} (${f.min.toFixed(1)}–${f.max.toFixed(1)})`;
    const md = [
      `Node ${versions.node} (dist/, a plain process) and Chromium ${versions.chromium} (a cross-origin-isolated page), main thread, uncontended; ns per operation, median of ${ROUNDS} interleaved rounds (min–max).`,
      '',
      '| operation | Node | Chromium |',
      '| --- | --- | --- |',
      ...rows.map((r) => `| ${r.name} | ${fmt(r.node)} | ${fmt(r.chromium)} |`),
      '',
    ].join('\n');
    writeFileSync(join(RESULTS, 'bench-locks-browser.json'), `${JSON.stringify({ versions, rounds: ROUNDS, timeMs, rows }, null, 2)}\n`);
    writeFileSync(join(RESULTS, 'bench-locks-browser.md'), md);
  });
});

describe('the static build', () => {
  let out = '';
  let server: Server | null = null;

  afterAll(async () => {
    await new Promise((r) => (server === null ? r(null) : server.close(r)));
    if (out !== '') rmSync(out, { recursive: true, force: true });
  });

  it('Vite builds the page without Node shims, and it runs from any static server that sends the headers', async () => {
    out = mkdtempSync(join(tmpdir(), 'sab-web-'));
    await build({ configFile: CONFIG, build: { outDir: out, emptyOutDir: true }, logLevel: 'error' });
    expect(existsSync(join(out, 'index.html'))).toBe(true);
    const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };
    server = createHttpServer((req, res) => {
      const path = normalize(join(out, decodeURIComponent((req.url ?? '/').split('?')[0]!)));
      const file = path.endsWith('/') ? join(path, 'index.html') : path;
      if (!file.startsWith(out) || !existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', ...ISOLATION }).end(readFileSync(file));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const page = await open(`http://127.0.0.1:${port}/`);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    await page.click('#run');
    await until(page, 'a duplicate allocation in the static build', async () => (await value(page, 'duplicates')) > 0);
    await page.click('#stop');
    expect((page as Page & { errors?: string[] }).errors).toEqual([]);
    await page.close();
  });

  it('the browser-safe entry points, as published (dist/), bundle for the browser with no Node module externalised', async () => {
    const entries = { browser: 'dist/src/browser/index.js', locks: 'dist/src/locks/index.js', shared: 'dist/src/shared/neutral.js' };
    const lib = mkdtempSync(join(tmpdir(), 'sab-lib-'));
    const warnings: string[] = [];
    try {
      await build({
        configFile: false,
        root: ROOT,
        logLevel: 'silent',
        customLogger: { info() {}, warn(m: string) { warnings.push(m); }, warnOnce(m: string) { warnings.push(m); }, error(m: string) { warnings.push(m); }, clearScreen() {}, hasErrorLogged: () => false, hasWarned: false },
        build: {
          outDir: lib, emptyOutDir: true, minify: false, target: 'es2022',
          lib: { entry: Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, join(ROOT, v)])), formats: ['es'] },
          rollupOptions: { external: ['comlink'] },
        },
      });
      const out = readdirSync(lib).filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(lib, f), 'utf8')).join('\n');
      expect(out.length).toBeGreaterThan(10_000);
      // Vite replaces a Node built-in it cannot bundle for the browser by an empty stub and warns.
      expect(out).not.toMatch(/__vite-browser-external|from ['"]node:|require\(['"]node:/);
      expect(warnings.filter((w) => /externalized for browser|node:/.test(w))).toEqual([]);
    } finally {
      rmSync(lib, { recursive: true, force: true });
    }
  });
});
