/**
 * The `sab-alloc` command as a user runs it: the compiled CLI in a child process.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../dist/src/cli.js', import.meta.url));

interface Run { code: number; stdout: string; stderr: string }

function cli(args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('sab-alloc CLI', () => {
  it('--help lists the commands; torture --help lists every option', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    for (const c of ['demo', 'reproduce', 'torture']) expect(top.stdout).toContain(c);
    const help = await cli(['torture', '--help']);
    expect(help.code).toBe(0);
    for (const flag of [
      '--workers', '--allocator', '--fix', '--cursor-fix', '--freelist-lookup', '--buckets', '--bucket-sectors', '--open-buckets',
      '--ops', '--seconds', '--seed', '--delay', '--delay-points', '--schedule', '--depth', '--steps', '--replay', '--kill', '--expect',
      '--json', '--stat-interval', '--stall-timeout', '--no-discard',
    ]) expect(help.stdout).toContain(flag);
  });

  it('every bad flag or value exits 2 with a message naming it', async () => {
    const cases: [string[], RegExp][] = [
      [['torture', '--workers', '0'], /--workers/],
      [['torture', '--workers', 'two'], /--workers/],
      [['torture', '--fix', 'duct-tape'], /--fix/],
      [['torture', '--allocator', 'buddy'], /--allocator/],
      [['torture', '--freelist-lookup', 'maybe'], /--freelist-lookup/],
      [['torture', '--schedule', 'chaos'], /--schedule/],
      [['torture', '--expect', 'miracle'], /--expect/],
      [['torture', '--bogus'], /--bogus/],
      [['torture', '--buckets', '2'], /--buckets/],
      [['torture', '--ops', '-5'], /--ops/],
      [['torture', '--seconds', 'soon'], /--seconds/],
      [['torture', '--delay', 'spin:1us'], /--delay/],
      [['torture', '--delay', 'warp:1us:0.1'], /--delay/],
      [['torture', '--delay', 'spin:1us:7'], /--delay/],
      [['torture', '--delay', 'spin:1us:0.1', '--delay-points', 'nowhere'], /--delay-points/],
      [['torture', '--delay-points', 'candidate-read'], /--delay-points/],
      [['torture', '--ops', '5', '--seconds', '1'], /--seconds/],
      [['torture', '--schedule', 'pct', '--seconds', '1'], /--seconds/],
      [['torture', '--schedule', 'pct', '--replay', 'garbage'], /--replay/],
      [['torture', '--replay', 'sab1.2.2.AAA'], /--replay/],
      [['torture', '--depth', '0'], /--depth/],
      [['reproduce', '--data-types', 'user'], /--data-types/],
      [['reproduce', '--fix', 'nope'], /--fix/],
      [['demo', '--rounds', '0'], /--rounds/],
      [['demo', '--workers', '1'], /--workers/],
      [['no-such-command'], /no-such-command/],
    ];
    const runs = await Promise.all(cases.map(([args]) => cli(args)));
    runs.forEach((r, i) => {
      const [args, re] = cases[i]!;
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(re);
    });
  });

  it('a short torture run prints banner, stats, verdict and replay command, and writes --json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sab-cli-'));
    const json = join(dir, 'run.json');
    const r = await cli(['torture', '--workers', '2', '--ops', '300', '--seed', '3', '--fix', 'keylock', '--schedule', 'pct', '--json', json]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('seed 3');
    expect(r.stdout).toMatch(/SUCCESS: no corruption/);
    expect(r.stdout).toMatch(/PCT n=2 k=/);
    const replay = /^replay: (.*)$/m.exec(r.stdout)![1]!;
    expect(replay).toMatch(/--replay sab2\.[\w-]+\.2\./);
    // Only flags that command uses: --depth/--steps mean nothing beside --replay, --freelist-lookup nothing to early.
    expect(replay).not.toMatch(/--depth|--steps|--freelist-lookup/);
    const doc = JSON.parse(readFileSync(json, 'utf8'));
    expect(doc.verdict).toBe('SUCCESS');
    expect(doc.params.seed).toBe(3);
    // The printed command replays: same outcome, no divergence.
    const again = await cli(replay.split(' ').slice(1));
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain('NONDETERMINISM');
  });

  it('--expect race: exit 0 when the unfixed allocator corrupts, 3 when a fix leaves nothing to find', async () => {
    const race = await cli(['torture', '--workers', '4', '--ops', '3000', '--seed', '7', '--delay', 'spin:10us:0.2', '--expect', 'race', '--quiet']);
    expect(race.code).toBe(0);
    expect(race.stdout).toMatch(/dup.*!!!|duplicate_backpointer [1-9]/);
    expect(race.stdout).toMatch(/first violation: .* in bucket \d+: writer \d+ \(op \d+\) vs writer -?\d+ \(op -?\d+\)/);
    const none = await cli(['torture', '--workers', '2', '--ops', '200', '--seed', '7', '--fix', 'seqlock', '--expect', 'race', '--quiet']);
    expect(none.code).toBe(3);
    expect(none.stdout).toContain('HARNESS_ERROR');
  });

  it('reproduce prints the step-by-step trace and what the fix did', async () => {
    const bug = await cli(['reproduce']);
    expect(bug.code).toBe(0);
    expect(bug.stdout).toMatch(/Task 1 +candidate-read/);
    expect(bug.stdout).toMatch(/Task 2 +after-put/);
    expect(bug.stdout).toContain('RACE REPRODUCED');
    const fixed = await cli(['reproduce', '--fix', 'seqlock']);
    expect(fixed.stdout).toContain('revalidate-failed');
    expect(fixed.stdout).toMatch(/SAFE: Task 1 skipped bucket 0/);
  });

  it('demo (tiny) prints the table for all six configurations and writes JSON and Markdown', async () => {
    const out = mkdtempSync(join(tmpdir(), 'sab-demo-'));
    const r = await cli(['demo', '--workers', '2', '--seconds', '0.3', '--rounds', '1', '--seed', '5', '--out', out], 120_000);
    expect([0, 1]).toContain(r.code);
    for (const name of ['early/none', 'early/none+cursor', 'early/seqlock', 'early/keylock', 'freelist/locked', 'freelist/unlocked']) {
      expect(r.stdout).toContain(name);
    }
    expect(existsSync(join(out, 'demo.json'))).toBe(true);
    const md = readFileSync(join(out, 'demo.md'), 'utf8');
    expect(md).toContain('| early/keylock |');
    const doc = JSON.parse(readFileSync(join(out, 'demo.json'), 'utf8'));
    expect(doc.rows).toHaveLength(6);
    // The fixes hold even in a tiny run; they are the rows that must be clean.
    for (const row of doc.rows.filter((x: { safe: boolean }) => x.safe)) {
      expect(row.duplicates).toBe(0);
      expect(row.commitErrors).toBe(0);
    }
    expect(md).toContain('duplicate allocations');
  });
});
