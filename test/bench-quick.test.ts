/**
 * A tiny benchmark run end to end: real workers, every section, every file written. The `tiny`
 * plan is the quick plan shrunk to milliseconds per configuration; nothing here asserts a speed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makePlan, runBenchSuite, RESULT_SCHEMA, type BenchResult } from '../src/bench/suite.js';
import { oracleTableRows, writeReport } from '../src/bench/report.js';
import { ALL_CONFIGS, configLabel } from '../src/bench/cycle.js';
import { MICRO_TASKS } from '../src/bench/micro.js';

const dir = mkdtempSync(join(tmpdir(), 'sab-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sab-alloc bench (tiny)', () => {
  it('runs every section with real workers and writes JSON, Markdown and charts', async () => {
    const progress: number[] = [];
    const result = await runBenchSuite({ plan: makePlan('tiny'), seed: 7 }, { onProgress: (done) => progress.push(done) });
    expect(result.schema).toBe(RESULT_SCHEMA);
    expect(result.seed).toBe(7);
    expect(result.micro!.entries.filter((e) => e.group === 'cycle')).toHaveLength(ALL_CONFIGS.length);
    // The oracle's price: its cycles with the oracle off, one Atomics op fewer (the oracle's load), and a row each.
    const off = result.micro!.entries.filter((e) => e.group === 'oracle');
    expect(off).toHaveLength(ALL_CONFIGS.length / 2);
    for (const e of off) {
      const on = result.micro!.entries.find((x) => x.group === 'cycle' && configLabel(x.config!) === configLabel(e.config!))!;
      expect(on.atomics!.total - e.atomics!.total, configLabel(e.config!)).toBe(1);
    }
    expect(oracleTableRows(result.micro!)).toHaveLength(off.length);
    // The time estimate's task count is the plan's.
    expect(result.micro!.entries).toHaveLength(MICRO_TASKS);
    expect(result.scaling!.points).toHaveLength(ALL_CONFIGS.length * 2);
    for (const p of result.scaling!.points) expect(p.throughput.median).toBeGreaterThan(0);
    // The fixes never hand a bucket out twice: zero racy allocations, fsck clean, under any delay.
    for (const p of result.race!.points.filter((x) => x.config.fix !== 'none' || x.config.allocator === 'freelist')) {
      expect(p.racy, p.label).toBe(0);
      expect(p.fsckFailures, p.label).toBe(0);
      expect(p.allocations).toBeGreaterThan(0);
    }
    expect(result.size!.points).toHaveLength(4 * 2);
    // Contended locks: every kind at 1 and 2 workers, each run checked for lost updates by the section itself.
    expect(result.contended!.cells.map((c) => `${c.kind}/${c.workers}`).sort()).toEqual(['mutex/1', 'mutex/2', 'rwlock-write/1', 'rwlock-write/2', 'spin/1', 'spin/2']);
    for (const c of result.contended!.cells) expect(c.pairsPerSec.median).toBeGreaterThan(0);
    // Lock targets are reported (never asserted): the uncontended ones from micro; the 4-vs-2 ones need 4 workers.
    expect(result.lockTargets!.map((t) => t.target.split(' ≤')[0])).toEqual(
      ['SpinLock lock+unlock', 'Mutex lock+unlock', 'SeqLock writer lock+unlock', 'RwLock read lock+unlock', 'RwLock write lock+unlock', 'SeqLock 4-word read']);
    expect(progress.length).toBeGreaterThan(0);
    for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThanOrEqual(progress[i - 1]!);

    const files = await writeReport(result, dir);
    for (const f of [files.json, files.report, ...files.charts]) expect(existsSync(f), f).toBe(true);
    expect(files.charts.map((c) => c.split('/').pop()).sort()).toEqual(['prices.svg', 'race.svg', 'scaling.svg', 'size.svg']);
    const back = JSON.parse(readFileSync(files.json, 'utf8')) as BenchResult;
    expect(back.machine.cores).toBeGreaterThan(0);
    expect(back.scaling!.points[0]!.throughput.samples.length).toBe(1);
    expect(readFileSync(files.report, 'utf8')).toContain('## Scaling');
    expect(readFileSync(files.report, 'utf8')).toContain('## Locks');
  }, 60_000);

  it('the locks and alloc shorthands run what npm run bench:locks and bench:alloc measured', () => {
    const locks = makePlan('tiny', ['locks']);
    expect(locks.sections).toEqual(['micro', 'contended']);
    expect(locks.micro.groups).toEqual(['raw', 'lock', 'read']);
    const alloc = makePlan('tiny', ['alloc']);
    expect(alloc.sections).toEqual(['micro', 'size']);
    expect(alloc.micro.groups).toEqual(['raw', 'cycle', 'oracle']);
    // A section named on its own runs whole.
    expect(makePlan('tiny', ['alloc', 'micro']).micro.groups).toEqual(['raw', 'lock', 'read', 'alloc', 'cycle', 'oracle']);
    expect(() => makePlan('tiny', ['bogus'])).toThrow(/only: unknown: bogus/);
  });
});
