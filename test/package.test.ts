/**
 * The package as a user gets it: `npm pack` of this checkout (built by `npm test`), checked by
 * publint and arethetypeswrong, installed from the tarball into a fresh project (from the local npm
 * cache, which `npm ci` filled), and used there:
 *
 *   - the README's library example runs and prints exactly the output the README shows;
 *   - the library entry points load nothing of the CLI, tables, progress bars or charts, and the
 *     chart renderer is not even installed (it is an optional peer dependency);
 *   - workers start from `node --input-type=module -e` (the flags they cannot use are dropped);
 *   - require() works (Node ≥ 20.19 loads ES modules synchronously);
 *   - `sab-alloc bench` without the chart renderer writes its report and says, in one line, how to
 *     get the charts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markedBlock } from './support/doc-blocks.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'node_modules', '.bin');
const RECORD_LOADS = join(ROOT, 'scripts', 'record-loads.mjs');
const ENTRIES = ['sab-alloc', 'sab-alloc/locks', 'sab-alloc/shared', 'sab-alloc/browser'];

let tmp = '';
let tarball = '';
let project = '';

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 });
}

function node(args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, args, { cwd: project, encoding: 'utf8', timeout: 60_000, input: options.input, env: { ...process.env, ...options.env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'sab-package-'));
  // --ignore-scripts: `npm test` has just built dist/; prepack would build it again.
  const packed = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], ROOT)) as { filename: string }[];
  tarball = join(tmp, packed[0]!.filename);
  project = join(tmp, 'consumer');
  execFileSync('mkdir', [project]);
  writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'consumer', private: true, type: 'module' })}\n`);
  npm(['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], project);
}, 240_000);

afterAll(() => {
  if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('passes publint (strict) and arethetypeswrong (ESM-only profile)', () => {
    const lint = spawnSync(join(BIN, 'publint'), ['--strict', tarball], { encoding: 'utf8' });
    expect(lint.stdout + lint.stderr).toContain('All good');
    expect(lint.status).toBe(0);
    // esm-only: attw has no notion of require(esm) and would flag require() from CommonJS, which
    // the README documents (Node ≥ 20.19 loads the package; older versions refuse with ERR_REQUIRE_ESM).
    const types = spawnSync(join(BIN, 'attw'), [tarball, '--profile', 'esm-only', '--format', 'ascii'], { encoding: 'utf8' });
    expect(types.status, types.stdout + types.stderr).toBe(0);
  });

  it('ships the built code, the sources its maps point at, the docs and the license; no bench scripts or tests', () => {
    const listed = (JSON.parse(npm(['pack', '--ignore-scripts', '--dry-run', '--json'], ROOT)) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    for (const f of ['LICENSE', 'README.md', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/index.js.map', 'src/index.ts', 'dist/src/cli.js', 'docs/design.md']) {
      expect(listed, f).toContain(f);
    }
    expect(listed.filter((f) => f.startsWith('dist/bench/') || f.startsWith('test/') || f.startsWith('docs/api/') || f.startsWith('scripts/'))).toEqual([]);
    // Every source map's sources are in the package.
    for (const map of listed.filter((f) => f.endsWith('.js.map')).slice(0, 20)) {
      const { sources } = JSON.parse(readFileSync(join(project, 'node_modules', 'sab-alloc', map), 'utf8')) as { sources: string[] };
      for (const s of sources) expect(listed, `${map} → ${s}`).toContain(join(map, '..', s));
    }
  });

  it('installs without the chart renderer', () => {
    const installed = join(project, 'node_modules');
    expect(existsSync(join(installed, 'sab-alloc', 'dist', 'src', 'index.js'))).toBe(true);
    expect(existsSync(join(installed, 'vega'))).toBe(false);
    expect(existsSync(join(installed, 'vega-lite'))).toBe(false);
  });

  it("runs the README's library example and prints what the README shows", () => {
    const code = markedBlock('README.md', 'example: examples/race.mjs', 'js');
    const expected = markedBlock('README.md', 'output: examples/race.mjs', '');
    writeFileSync(join(project, 'example.mjs'), code);
    const r = node(['example.mjs']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(expected);
  });

  it('the library entry points load nothing of the CLI, tables, progress bars or charts', () => {
    for (const entry of ENTRIES) {
      const out = join(tmp, `${entry.replace(/\W/g, '_')}.loads`);
      const r = node(['--import', RECORD_LOADS, '--input-type=module', '-e', `await import(${JSON.stringify(entry)});`], { env: { RECORD_LOADS_OUT: out } });
      expect(r.status, r.stderr).toBe(0);
      const urls = readFileSync(out, 'utf8').trim().split('\n').filter((u) => u.startsWith('file:'));
      expect(urls.length, entry).toBeGreaterThan(3);
      const packages = new Set(urls.map((u) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u)?.[1]).filter((p) => p !== undefined));
      expect([...packages].filter((p) => p !== 'sab-alloc' && p !== 'comlink'), entry).toEqual([]);
      expect(urls.filter((u) => /\/dist\/src\/(cli|bench)[/.]/.test(u)), entry).toEqual([]);
    }
  });

  it('starts its workers from `node --input-type=module -e`, and require() works', () => {
    const script = "import { reproduceReportedRace } from 'sab-alloc'; const r = await reproduceReportedRace(); console.log(r.duplicate);";
    const e = node(['--input-type=module', '-e', script]);
    expect(e.stderr).toBe('');
    expect(e.stdout.trim()).toBe('true');
    const piped = node(['--input-type=module'], { input: script });
    expect(piped.stdout.trim()).toBe('true');
    const cjs = node(['--input-type=commonjs', '-e', "const { Mutex } = require('sab-alloc/locks'); const { createFilesystem } = require('sab-alloc'); console.log(typeof Mutex, createFilesystem({ buckets: 8 }).fsck().ok);"]);
    expect(cjs.stderr).toBe('');
    expect(cjs.stdout.trim()).toBe('function true');
  });

  it('sab-alloc bench without the chart renderer writes the report and says how to get charts', () => {
    const out = join(tmp, 'bench-out');
    const r = spawnSync(join(project, 'node_modules', '.bin', 'sab-alloc'), ['bench', '--tiny', '--only', 'micro', '--out', out], { cwd: project, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr.split('\n').filter((l) => l.includes('vega'))).toEqual([
      'charts: skipped — the chart renderer (vega, vega-lite; optional) is not installed; `npm install vega@6 vega-lite@6` to get them',
    ]);
    expect(readFileSync(join(out, 'bench-report.md'), 'utf8')).toContain('No charts: the chart renderer');
    expect(existsSync(join(out, 'bench-charts'))).toBe(false);
  });
});
