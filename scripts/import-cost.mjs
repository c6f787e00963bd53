#!/usr/bin/env node
/**
 * What importing each entry point costs: modules loaded (and which packages they come from) and
 * wall time of the import itself (median of several fresh processes; Node's own start-up excluded).
 *
 *   node scripts/import-cost.mjs [--runs N] [DIR]
 *
 * DIR is a directory where `sab-alloc` resolves (default: this repository, via its own package
 * name: self-reference through "exports"). Nothing here is asserted: the packed-package test checks
 * which modules load; this script prints the numbers quoted in the README.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
let runs = 7;
let dir = fileURLToPath(new URL('..', import.meta.url));
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--runs') runs = Number(args[++i]);
  else dir = resolve(args[i]);
}
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs: must be a positive integer');

const ENTRIES = ['sab-alloc', 'sab-alloc/locks', 'sab-alloc/shared'];
const hooks = fileURLToPath(new URL('./record-loads.mjs', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'sab-import-cost-'));

function child(code, env = {}, extra = []) {
  return execFileSync(process.execPath, [...extra, '--input-type=module', '-e', code], { cwd: dir, env: { ...process.env, ...env }, encoding: 'utf8' });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  for (const entry of ENTRIES) {
    const out = join(tmp, `${entry.replace(/\W/g, '_')}.txt`);
    child(`await import(${JSON.stringify(entry)});`, { RECORD_LOADS_OUT: out }, ['--import', hooks]);
    const urls = [...new Set(readFileSync(out, 'utf8').trim().split('\n'))].filter((u) => u.startsWith('file:'));
    const packages = new Set(urls.map((u) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u)?.[1]).filter(Boolean));
    const own = urls.filter((u) => !u.includes('/node_modules/')).length;
    const ms = [];
    for (let r = 0; r < runs; r++) {
      ms.push(Number(child(`const t0 = performance.now(); await import(${JSON.stringify(entry)}); console.log(performance.now() - t0);`).trim()));
    }
    console.log(`${entry}: ${urls.length} modules (${own} own, ${urls.length - own} from ${packages.size} packages: ${[...packages].sort().join(', ') || 'none'}); import ${median(ms).toFixed(1)} ms (median of ${runs}, min ${Math.min(...ms).toFixed(1)})`);
  }
  // For contrast: what the command loads before it does anything (`sab-alloc --version`).
  const cli = join(tmp, 'cli.txt');
  const bin = child(`console.log(import.meta.resolve('sab-alloc/package.json'))`).trim().replace(/package\.json$/, 'dist/src/cli.js');
  execFileSync(process.execPath, ['--import', hooks, fileURLToPath(bin), '--version'], { cwd: dir, env: { ...process.env, RECORD_LOADS_OUT: cli } });
  const cliUrls = [...new Set(readFileSync(cli, 'utf8').trim().split('\n'))].filter((u) => u.startsWith('file:'));
  const cliPackages = new Set(cliUrls.map((u) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u)?.[1]).filter(Boolean));
  console.log(`sab-alloc --version (the command, for contrast): ${cliUrls.length} modules from ${[...cliPackages].sort().join(', ')}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
