/**
 * The `sab-alloc` command as a user runs it: the compiled dist/src/cli.js in a child process
 * (`npm test` builds first). Usage errors exit 2 naming the flag; `lock-torture` exits 0 only when
 * the busted control lost updates and every real lock lost none; its former name `locks` still
 * runs it and says what it is called now.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = fileURLToPath(new URL('../dist/src/cli.js', import.meta.url));
const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('sab-alloc CLI: lock-torture', () => {
  it('--help lists the lock-torture command (and not its former name)', () => {
    const r = cli('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\s+lock-torture \[options\]\s+short lock torture/m);
    expect(r.stdout).not.toMatch(/^\s+locks /m);
    const sub = cli('lock-torture', '--help');
    expect(sub.status).toBe(0);
    for (const flag of ['--workers', '--iterations', '--locks', '--timeout', '--json']) expect(sub.stdout).toContain(flag);
  });

  it('--version prints the package version', () => {
    const r = cli('--version');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(VERSION);
  });

  it('an unknown flag exits 2 naming it', () => {
    const r = cli('lock-torture', '--bogus');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown option '--bogus'");
  });

  it('bad values exit 2 naming the flag and the allowed range', () => {
    const w = cli('lock-torture', '--workers', '0');
    expect(w.status).toBe(2);
    expect(w.stderr).toMatch(/option '--workers <n>' argument '0' is invalid. must be a decimal integer in \[2, 64\]/);
    const l = cli('lock-torture', '--locks', 'spin,nope');
    expect(l.status).toBe(2);
    expect(l.stderr).toMatch(/'--locks <list>' argument 'spin,nope' is invalid. unknown lock "nope"; known: spin, mutex/);
    const i = cli('lock-torture', '--workers', '64', '--iterations', '100000000');
    expect(i.status).toBe(2);
    expect(i.stderr).toContain('--iterations');
  });

  it('a short run shows the busted lock losing updates and each lock keeping them (exit 0)', () => {
    const r = cli('lock-torture', '--workers', '4', '--iterations', '200000', '--locks', 'mutex,spin');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/busted \(no lock\).*unsafe, as expected/);
    expect(r.stdout).toMatch(/│ mutex .*│\s+800,000 │\s+800,000 │\s+0 │\s+0 │.*ok/);
    expect(r.stdout).toMatch(/│ spin .*│\s+800,000 │\s+800,000 │\s+0 │\s+0 │.*ok/);
    expect(r.stdout).toMatch(/every lock kept them all/);
  });

  it('the former name `locks` still runs the torture and says what it is called now', () => {
    const r = cli('locks', '--workers', '4', '--iterations', '200000', '--locks', 'mutex');
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain('`sab-alloc locks` is now `sab-alloc lock-torture`');
    expect(r.stderr).toContain('sab-alloc bench --only locks');
    expect(r.stdout).toMatch(/│ mutex .*ok/);
  });
});
