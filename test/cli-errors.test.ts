/**
 * The CLI reports what happened, and only that (issue 8's CLI class), through the compiled
 * `sab-alloc` in child processes:
 *
 *   - output paths are checked before a run (exit 2 naming the flag); a result that cannot be
 *     written after a run that succeeded is exit 3 with one line, never a stack trace or exit 1;
 *   - `bench --compare` checks the shape of both files and names what is missing (exit 2);
 *   - every message names a flag that exists;
 *   - numbers are decimal only, lists have no empty entries;
 *   - flags a command would ignore are refused;
 *   - a replay with other settings than the recorded run's is refused naming them, not run and
 *     called nondeterminism.
 *
 * Runs are kept tiny: these check the reporting, not the allocator.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../dist/src/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sab-cli-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run { code: number; stdout: string; stderr: string }

function cli(args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: dir, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** One line on stderr and no stack frame in it. */
function oneLine(r: Run): void {
  expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/^\s+at /m);
}

const aFile = join(dir, 'a-file');
writeFileSync(aFile, 'not a directory\n');
mkdirSync(join(dir, 'a-dir'));

describe('output files', () => {
  it('an output path that cannot be written is refused before the run, naming the flag (exit 2)', async () => {
    const cases: [string[], RegExp][] = [
      [['torture', '--workers', '1', '--ops', '10', '--json', join(aFile, 'run.json')], /^error: --json: cannot write .*a-file is not a directory/],
      [['torture', '--workers', '1', '--ops', '10', '--json', join(dir, 'a-dir')], /^error: --json: .*a-dir is a directory/],
      [['reproduce', '--json', join(aFile, 'r.json')], /^error: --json: /],
      [['lock-torture', '--iterations', '1000', '--json', join(aFile, 'l.json')], /^error: --json: /],
      [['demo', '--seconds', '0.2', '--rounds', '1', '--out', aFile], /^error: --out: .*a-file exists and is not a directory/],
      [['bench', '--tiny', '--only', 'micro', '--out', aFile], /^error: --out: /],
      [['bench', '--tiny', '--only', 'micro', '--no-report', '--json', join(aFile, 'b.json')], /^error: --json: /],
    ];
    const runs = await Promise.all(cases.map(([args]) => cli(args)));
    runs.forEach((r, i) => {
      expect({ args: cases[i]![0], code: r.code }).toEqual({ args: cases[i]![0], code: 2 });
      expect(r.stderr).toMatch(cases[i]![1]);
      oneLine(r);
      // Refused before anything ran: no banner, no table.
      expect(r.stdout).toBe('');
    });
  });

  it('a run that succeeded but cannot write its result exits 3 with one line, no stack (a full disk: /dev/full)', async () => {
    const cases: string[][] = [
      ['torture', '--workers', '2', '--ops', '50', '--fix', 'keylock', '--seed', '1', '--quiet', '--json', '/dev/full'],
      ['reproduce', '--json', '/dev/full'],
      ['lock-torture', '--workers', '4', '--iterations', '200000', '--locks', 'mutex', '--json', '/dev/full'],
      ['bench', '--tiny', '--only', 'micro', '--no-report', '--json', '/dev/full'],
    ];
    const runs = await Promise.all(cases.map((args) => cli(args)));
    runs.forEach((r, i) => {
      expect({ args: cases[i], code: r.code, stderr: r.stderr }).toMatchObject({ args: cases[i], code: 3 });
      // One error line (bench also prints its progress on stderr), and no stack.
      expect(r.stderr.split('\n').filter((l) => /error/i.test(l))).toEqual([expect.stringMatching(/^error: --json: cannot write \/dev\/full \(ENOSPC\)/)]);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      // The run itself finished and printed its result before the write failed.
      expect(r.stdout.length).toBeGreaterThan(0);
    });
  });

  it('--delay none runs without a delay (it used to reach the library as a delay with no kind)', async () => {
    const [t, d] = await Promise.all([
      cli(['torture', '--workers', '2', '--ops', '50', '--fix', 'keylock', '--delay', 'none', '--quiet']),
      cli(['demo', '--workers', '2', '--seconds', '0.2', '--rounds', '1', '--delay', 'none'], 120_000),
    ]);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/SUCCESS/);
    expect(d.stderr).toBe('');
    expect([0, 1]).toContain(d.code);
    expect(d.stdout).toMatch(/delay none/);
  }, 120_000);

  it('demo writes nothing unless --out is given, and says so', async () => {
    const cwd = mkdtempSync(join(dir, 'demo-'));
    const r = await new Promise<Run>((resolve) => {
      execFile(process.execPath, [CLI, 'demo', '--workers', '2', '--seconds', '0.2', '--rounds', '1', '--seed', '1'], { cwd, timeout: 120_000 }, (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
      });
    });
    expect([0, 1]).toContain(r.code);
    expect(r.stdout).toMatch(/nothing written \(--out DIR saves demo\.json and demo\.md\)/);
    expect(existsSync(join(cwd, 'results'))).toBe(false);
  }, 120_000);
});

describe('bench --compare', () => {
  it('checks the shape of both files and names what is missing (exit 2, not a TypeError)', async () => {
    const good = join(dir, 'good.json');
    const made = await cli(['bench', '--tiny', '--only', 'micro', '--no-report', '--json', good]);
    expect(made.code).toBe(0);
    const doc = JSON.parse(readFileSync(good, 'utf8')) as Record<string, unknown>;
    const tagged = join(dir, 'tagged.json');
    const { cores: _, ...machine } = doc.machine as Record<string, unknown>;
    writeFileSync(tagged, JSON.stringify({ schema: doc.schema, machine, micro: { entries: [{ name: 'cycle', ns: { median: 'fast', min: 1, max: 2, n: 3 } }] } }));
    const badScaling = join(dir, 'bad-scaling.json');
    writeFileSync(badScaling, JSON.stringify({ ...doc, scaling: { points: 'none' } }));
    for (const [a, b, bad] of [[good, tagged, tagged], [tagged, good, tagged], [good, badScaling, badScaling]] as const) {
      const r = await cli(['bench', '--compare', a, b]);
      expect(r.code).toBe(2);
      oneLine(r);
      expect(r.stderr).not.toMatch(/TypeError/);
      expect(r.stderr).toContain(`error: --compare: ${bad}: not a complete sab-alloc bench result`);
    }
    const r = await cli(['bench', '--compare', good, tagged]);
    expect(r.stderr).toMatch(/machine\.cores must be a number, got nothing/);
    expect(r.stderr).toMatch(/micro\.entries\[0\]\.ns\.median must be a number, got a string "fast"/);
    expect((await cli(['bench', '--compare', good, badScaling])).stderr).toMatch(/scaling\.points must be an array, got a string/);
    // The well-formed file against itself: every figure within its spread.
    const same = await cli(['bench', '--compare', good, good]);
    expect(same.code).toBe(0);
    expect(same.stdout).toMatch(/0 changed beyond the measured spread/);
  });
});

describe('usage errors', () => {
  const cases: [string[], RegExp][] = [
    // Every message names a flag that exists (the library option is maxExtentSectors; the flag --max-extent).
    [['torture', '--bucket-sectors', '4', '--max-extent', '8'], /^error: --max-extent: must be an integer in \[1, 4\], got 8$/m],
    [['torture', '--buckets', '1048576', '--bucket-sectors', '4096'], /^error: --buckets × --bucket-sectors: must be at most 2\^30 sectors/m],
    // Numbers are decimal only.
    [['torture', '--workers', '0x2'], /'--workers <n>' argument '0x2' is invalid. must be a decimal integer in \[1, 64\]/],
    [['torture', '--ops', '1e3'], /'--ops <n>' argument '1e3' is invalid. must be a decimal integer/],
    [['torture', '--seed', ' 7'], /'--seed <n>' argument ' 7' is invalid/],
    [['torture', '--seconds', '0x1'], /'--seconds <s>' argument '0x1' is invalid. must be a decimal number/],
    [['torture', '--delay', 'spin:1us:0x1'], /'--delay <spec>' argument 'spin:1us:0x1' is invalid. probability must be a decimal number/],
    [['demo', '--rounds', '0b1'], /'--rounds <n>' argument '0b1' is invalid/],
    [['lock-torture', '--iterations', '1e6'], /'--iterations <n>' argument '1e6' is invalid/],
    [['bench', '--seed', '0x10'], /'--seed <n>' argument '0x10' is invalid/],
    // Empty lists and empty entries are refused.
    [['torture', '--delay', 'spin:1us:0.1', '--delay-points', ','], /'--delay-points <list>' argument ',' is invalid. must be a comma-separated list of race points with no empty entries/],
    [['torture', '--delay', 'spin:1us:0.1', '--delay-points', 'candidate-read,'], /--delay-points .* no empty entries/],
    [['lock-torture', '--locks', ','], /'--locks <list>' argument ',' is invalid/],
    [['lock-torture', '--locks', 'mutex,,spin'], /'--locks <list>' argument 'mutex,,spin' is invalid/],
    [['bench', '--only', ','], /'--only <sections>' argument ',' is invalid/],
    // Flags a command would ignore are refused.
    [['reproduce', '--all', '--fix', 'seqlock'], /^error: --fix: has no effect with --all/m],
    [['reproduce', '--all', '--allocator', 'freelist'], /^error: --allocator: has no effect with --all/m],
    [['reproduce', '--all', '--data-types', 'user,btree'], /^error: --data-types: has no effect with --all/m],
    [['reproduce', '--freelist-lookup', 'unlocked'], /^error: --freelist-lookup: applies only to --allocator freelist/m],
    [['torture', '--freelist-lookup', 'unlocked'], /^error: --freelist-lookup: applies only to --allocator freelist/m],
    [['torture', '--depth', '2'], /^error: --depth: applies only to --schedule pct/m],
    [['torture', '--schedule', 'random', '--steps', '100'], /^error: --steps: applies only to --schedule pct/m],
    [['torture', '--delay', 'none', '--delay-points', 'candidate-read'], /^error: --delay-points: needs --delay/m],
    [['torture', '--quiet', '--stat-interval', '2'], /^error: --stat-interval: --quiet prints no stat lines/m],
    [['bench', '--compare', 'a.json', 'b.json', '--out', 'x'], /^error: --out: has no effect with --compare/m],
    [['bench', '--compare', 'a.json', 'b.json', '--json', 'x.json'], /^error: --json: has no effect with --compare/m],
    [['bench', '--compare', 'a.json', 'b.json', '--quick'], /^error: --quick: has no effect with --compare/m],
    [['bench', '--no-report', '--out', 'x'], /^error: --out: has no effect with --no-report/m],
    [['bench', '--compare', 'a.json'], /^error: --compare: needs exactly two result files/m],
    [['bench', '--compare', '/nonexistent/a.json', '/nonexistent/b.json'], /^error: --compare: \/nonexistent\/a.json: cannot read/m],
  ];

  it('each exits 2 with one message naming the flag', async () => {
    const runs = await Promise.all(cases.map(([args]) => cli(args)));
    runs.forEach((r, i) => {
      const [args, re] = cases[i]!;
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(re);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      // Nothing ran.
      expect(r.stdout).toBe('');
    });
  });
});

describe('replay', () => {
  it('a replay with other flags than the recorded run is refused naming them (exit 2), not called nondeterminism', async () => {
    const first = await cli(['torture', '--workers', '2', '--ops', '60', '--seed', '3', '--fix', 'keylock', '--schedule', 'random', '--quiet']);
    expect(first.code).toBe(0);
    const replay = /^replay: sab-alloc (.*)$/m.exec(first.stdout)![1]!.split(' ');
    const swap = (flag: string, value: string): string[] => replay.map((a, i) => (replay[i - 1] === flag ? value : a));
    const same = await cli([...replay, '--quiet']);
    expect(same.code).toBe(0);
    const otherSeed = await cli(swap('--seed', '4'));
    expect(otherSeed.code).toBe(2);
    expect(otherSeed.stderr).toMatch(/^error: --replay: this schedule was recorded with --seed 3; this run has --seed 4\. /m);
    expect(otherSeed.stdout).not.toMatch(/NONDETERMINISM|nondeterminism/);
    const otherFix = await cli(swap('--fix', 'seqlock'));
    expect(otherFix.stderr).toMatch(/recorded with --fix keylock; this run has --fix seqlock/);
    const noSeed = replay.filter((a, i) => a !== '--seed' && replay[i - 1] !== '--seed');
    const random = await cli(noSeed);
    expect(random.code).toBe(2);
    expect(random.stderr).toMatch(/recorded with --seed 3; this run has --seed \d+/);
  });
});
