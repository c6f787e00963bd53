/**
 * The live page (web/) in Chromium, driven as a person would with Playwright: it loads cross-origin
 * isolated, runs the unfixed allocator and shows duplicates on its own counters, then — fix switched
 * on — shows none over tens of thousands of allocations; the reported interleaving's timeline names
 * the duplicate for every unfixed configuration and none for the fixed ones; served without the
 * isolation headers it says so and how to serve it. The same page built statically by Vite (no Node
 * shims) runs from a plain static server that sends the headers. Screenshots go to results/.
 */
import { mkdirSync, readFileSync, rmSync, mkdtempSync, existsSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright';
import { build, createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, chromiumPath } from '../../scripts/chromium.mjs';

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
    await page.screenshot({ path: join(RESULTS, 'web-page-racy.png') });
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
});
