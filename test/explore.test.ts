/**
 * Systematic exploration with real workers. Every "clean" verdict here has its negative control in
 * the same harness at the same bound: the unfixed allocator must be found failing, or the clean
 * verdict proves nothing.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { explore, normalizeExploreOptions, replayExplore, type ExploreOptions, type ExploreResult } from '../src/race/explore.js';
import { FOOT_WORDS, Obj, START_POINT, WordKind, WordMap, dependent, setBit, stepReads, type ReadContext } from '../src/race/explore-footprint.js';
import { RacePoint } from '../src/alloc/race-points.js';
import { createFilesystem } from '../src/alloc/filesystem.js';
import { Dev } from '../src/alloc/device.js';

const CLI = fileURLToPath(new URL('../dist/src/cli.js', import.meta.url));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

const sameSets = (a: ExploreResult, b: ExploreResult): void => {
  expect(a.stateSet).toEqual(b.stateSet);
  expect(a.failingStateSet).toEqual(b.failingStateSet);
  expect(a.classes.map((c) => c.key).sort()).toEqual(b.classes.map((c) => c.key).sort());
};

describe('explore: the reported race', () => {
  it('early/none at 2 workers × 2 ops, one preemption: found, and its replay string replays it', async () => {
    const r = await explore({ workers: 2, ops: 2, preemptions: 1 });
    expect(r.complete).toBe(true);
    expect(r.bounds.map((b) => b.complete)).toEqual([true, true]);
    expect(r.failingSchedules).toBeGreaterThan(0);
    const c = r.classes[0]!;
    expect(c.shortest.preemptions).toBe(1);
    expect(c.kinds).toEqual(expect.arrayContaining(['duplicate_backpointer', 'fsck:duplicate_backpointer', 'oracle:duplicate_allocation']));
    expect(c.shortest.duplicates).toBe(1);
    // The report's shape: worker 0 reads bucket 0 and is preempted before publishing; worker 1 opens,
    // fills and puts bucket 0; worker 0 then publishes bucket 0 a second time.
    const t = c.shortest.trace.map((e) => `${e.worker} ${e.point} ${e.bucket}`);
    const read = t.indexOf('0 candidate-read 0');
    const otherPut = t.indexOf('1 after-put 0');
    const reopen = t.indexOf('0 after-publish 0');
    expect(read).toBeGreaterThanOrEqual(0);
    expect(otherPut).toBeGreaterThan(read);
    expect(reopen).toBeGreaterThan(otherPut);
    expect(c.shortest.narrative.some((l) => l.includes('-- switch to worker 1'))).toBe(true);

    const rep = await replayExplore({ workers: 2, ops: 2 }, c.shortest.schedule);
    expect(rep.diverged).toBe(false);
    expect(rep.verdict?.kinds).toEqual(c.kinds);
    expect(rep.trace.map((e) => `${e.worker} ${e.point} ${e.bucket}`)).toEqual(t);
    // The same string does not fit a fixed allocator: its decisions run out or name a finished worker.
    const other = await replayExplore({ workers: 2, ops: 2, fix: 'keylock' }, c.shortest.schedule);
    expect(other.diverged).toBe(true);
  });

  it('without a preemption the same configuration is clean: the race needs one', async () => {
    const r = await explore({ workers: 2, ops: 2, preemptions: 0 });
    expect(r.complete).toBe(true);
    expect(r.schedules).toBe(2);
    expect(r.failingSchedules).toBe(0);
  });
});

describe('explore: each fix is clean within a bound where the unfixed code fails', () => {
  const bound: ExploreOptions = { workers: 2, ops: 2, preemptions: 2 };
  it.each([
    ['early/none', { fix: 'none' }, true],
    ['freelist/unlocked', { allocator: 'freelist', freelistLookup: 'unlocked' }, true],
    ['early/seqlock', { fix: 'seqlock' }, false],
    ['early/keylock', { fix: 'keylock' }, false],
    ['freelist/locked', { allocator: 'freelist', freelistLookup: 'locked' }, false],
  ] as const)('%s', async (_name, config, races) => {
    const r = await explore({ ...bound, ...config });
    expect(r.complete).toBe(true);
    expect(r.schedules).toBeGreaterThan(20);
    if (races) {
      expect(r.failingSchedules).toBeGreaterThan(0);
      expect(r.classes[0]!.shortest.preemptions).toBe(1);
    } else {
      expect(r.failingSchedules).toBe(0);
      expect(r.statement).toMatch(/^all schedules of 2 workers × 2 ops with ≤ 2 preemptions explored .*: no corruption$/);
    }
  });
});

describe('explore: partial-order reduction', () => {
  it.each([
    ['early/none 2×2 ≤ 2', { workers: 2, ops: 2, preemptions: 2 }],
    ['early/seqlock 2×2 ≤ 2', { workers: 2, ops: 2, preemptions: 2, fix: 'seqlock' }],
    ['early/none, free at gen + 1, 3 buckets, 2×2 ≤ 2', { workers: 2, ops: 2, preemptions: 2, mix: 'cycle+free', discard: false, buckets: 3 }],
    ['early/none 3×1 ≤ 1', { workers: 3, ops: 1, preemptions: 1 }],
  ] as const)('%s: same final states, failing states and classes as the unreduced search, from fewer executions', async (_n, o) => {
    const reduced = await explore({ ...o, por: true } as ExploreOptions);
    const full = await explore({ ...o, por: false } as ExploreOptions);
    sameSets(reduced, full);
    expect(reduced.pruned.asleep + reduced.pruned.sleepBlocked).toBeGreaterThan(0);
    expect(reduced.schedules + reduced.pruned.sleepBlocked).toBeLessThan(full.schedules);
    expect(full.pruned).toEqual({ asleep: 0, sleepBlocked: 0 });
  });

  it('the footprint model: what a step reads, what a changed word is, when two steps conflict', () => {
    const ctx: ReadContext = { buckets: 6, slots: 8, early: true, cursorFix: false, lockCandidate: false };
    const a = new Int32Array(2 * FOOT_WORDS);
    const b = new Int32Array(2 * FOOT_WORDS);
    // The hand-over between the candidate read and the freelist lock reads nothing.
    stepReads(a, 0, RacePoint.candidateRead, 2, RacePoint.beforeFreelistLock, 2, 0, ctx);
    expect(a.every((x) => x === 0)).toBe(true);
    // An early scan without the cursor fix reads buckets 0..3 to reach candidate 3, and the op counter.
    stepReads(a, 0, RacePoint.allocStart, -1, RacePoint.candidateRead, 3, 0, ctx);
    setBit(b, FOOT_WORDS, Obj.rec + 3);
    expect(dependent(a, 0, FOOT_WORDS, b, 0, FOOT_WORDS)).toBe(true);
    b.fill(0);
    setBit(b, FOOT_WORDS, Obj.rec + 4);
    expect(dependent(a, 0, FOOT_WORDS, b, 0, FOOT_WORDS)).toBe(false);
    // An unknown transition reads everything.
    stepReads(a, 0, START_POINT, -1, RacePoint.beforeDiscard, 1, 0, ctx);
    expect(dependent(a, 0, FOOT_WORDS, b, 0, FOOT_WORDS)).toBe(true);
    // Words: the cursor is its object; a registry member's state word is outside the model.
    const fs = createFilesystem({ buckets: 6, bucketSectors: 8, openBuckets: 8, maxThreads: 3, extents: 12 });
    const map = new WordMap(fs.region, fs.config);
    const dev = fs.region.layout.sections.find((s) => s.name === 'device')!;
    expect(map.code[dev.buffer]![(dev.byteOffset >>> 2) + Dev.cursor]).toBe(Obj.cursor);
    const reg = fs.region.layout.sections.find((s) => s.name === 'registry')!;
    expect(map.code[reg.buffer]![reg.byteOffset >>> 2]).toBe(WordKind.forbidden);
    fs.detach();
  });
});

describe('explore: budgets, options, CLI', () => {
  it('a budget that runs out says how far the search got and claims nothing more', async () => {
    const r = await explore({ workers: 2, ops: 2, preemptions: 2, fix: 'seqlock', maxSchedules: 10 });
    expect(r.complete).toBe(false);
    expect(r.budget).toBe('max-schedules');
    expect(r.schedules).toBe(10);
    expect(r.bounds[0]!.complete).toBe(true);
    expect(r.bounds[2]!.complete).toBe(false);
    expect(r.statement).toMatch(/^incomplete \(max-schedules budget ran out\).*not a proof/);
  });

  it('bad options are refused naming the option and its range', () => {
    expect(() => normalizeExploreOptions({ workers: 9 })).toThrow(/workers: must be an integer in \[1, 8\]/);
    expect(() => normalizeExploreOptions({ preemptions: -1 })).toThrow(/preemptions/);
    expect(() => normalizeExploreOptions({ buckets: 65 })).toThrow(/buckets: must be an integer in \[2, 64\]/);
    expect(() => normalizeExploreOptions({ sectors: 9 })).toThrow(/sectors: must be an integer in \[1, 8\]/);
    expect(() => normalizeExploreOptions({ dataTypes: ['user', 'nope' as never] })).toThrow(/dataTypes\[1\]/);
    expect(() => normalizeExploreOptions({ bogus: 1 } as never)).toThrow(/options.bogus/);
  });

  it('exits 1 with a replay command that replays, 0 clean with the statement, 2 on bad usage; --json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'explore-'));
    const bad = await cli(['explore', '--fix', 'none', '--preemptions', '1', '--json', join(dir, 'r.json')]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('FAILING:');
    const json = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as ExploreResult;
    expect(json.failingSchedules).toBeGreaterThan(0);
    const replay = /replay: sab-alloc explore (.*)$/m.exec(bad.stdout)![1]!.split(' ');
    const again = await cli(['explore', ...replay]);
    expect(again.code).toBe(1);
    expect(again.stdout).toContain('CORRUPTED: duplicate_backpointer');
    const good = await cli(['explore', '--fix', 'keylock', '--preemptions', '1']);
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/^all schedules of 2 workers × 2 ops with ≤ 1 preemption explored .*: no corruption$/m);
    expect(good.stdout).toContain('orders inside a step');
    for (const [args, flag] of [[['--workers', '0'], '--workers'], [['--replay', 'nope'], '--replay']] as const) {
      const r = await cli(['explore', ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(flag);
    }
  });
});
