/**
 * The cursor study in quick mode, with real workers: it runs both baselines with and without the
 * cursor fix, measures, and writes its report and chart. The race is the study's signal, so the
 * test also checks the instrument can see it (the unfixed allocator with a 20 µs window must race
 * somewhere in the run): a study that measured nothing would report "no difference" for nothing.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planConditions, rateRatio, runCursorStudy } from '../src/study/cursor-study.js';
import { studyLines, writeStudy } from '../src/study/cursor-report.js';

describe('cursor study', () => {
  it('quick mode: both baselines, both settings, both measures; the report and its chart are written', async () => {
    const r = await runCursorStudy({ quick: true, seed: 11 });
    expect(r.conditions.map((c) => `${c.condition.shape}/${c.varied}`)).toEqual(['cycle/baseline', 'torture/baseline']);
    let duplicates = 0;
    for (const c of r.conditions) {
      for (const p of [c.cursor, c.noCursor]) {
        expect(p.runs).toBe(2);
        expect(p.allocations).toBeGreaterThan(50);
        duplicates += p.duplicates;
      }
      expect(c.first.cursor.runs).toBe(6);
      expect(c.first.noCursor.runs).toBe(6);
      duplicates += c.first.cursor.events + c.first.noCursor.events;
      // The fill is a prefix of the device: a scan from bucket 0 walks over it, one from the cursor does not.
      expect(c.noCursor.scanLength).toBeGreaterThan(c.cursor.scanLength);
    }
    expect(duplicates).toBeGreaterThan(0);
    // The simple cycle frees what it wrote at once: without the cursor the lowest buckets come straight back.
    const cycle = r.conditions[0]!;
    expect(cycle.cursor.reuseLag.mean).toBeGreaterThan(cycle.noCursor.reuseLag.mean);

    const dir = mkdtempSync(join(tmpdir(), 'cursor-study-'));
    const files = await writeStudy(r, dir);
    // The renderer is a dev dependency here (optional for users): the chart is written.
    expect(files.chart).not.toBeNull();
    expect(readFileSync(files.chart!, 'utf8')).toMatch(/^<svg[\s\S]*cursor \/ no cursor/);
    const md = readFileSync(files.report, 'utf8');
    expect(md).toContain('## Reading');
    expect(md).toContain('## First duplicate from a fresh device (cascade-free)');
    expect(existsSync(files.json)).toBe(true);
    expect(studyLines(r).join('\n')).toMatch(/cycle +baseline +first/);
  });

  it('the full plan varies one factor at a time around each baseline', () => {
    const plan = planConditions(false);
    expect(plan).toHaveLength(18);
    expect(new Set(plan.map((p) => p.varied))).toEqual(new Set(['baseline', 'fill', 'device size', 'workers', 'delay', 'discard']));
    expect(plan.filter((p) => p.varied === 'workers').map((p) => p.condition.workers).sort()).toEqual([2, 2, 8, 8]);
  });

  it('rate ratios: a log interval, a zero count corrected, no events no ratio', () => {
    const r = rateRatio(40, 1000, 20, 1000);
    expect(r.value).toBeCloseTo(2, 10);
    expect(r.low).toBeGreaterThan(1);
    expect(r.high).toBeLessThan(4);
    expect(r.method).toBe('katz');
    expect(rateRatio(0, 1000, 10, 1000).method).toBe('zero-corrected');
    expect(rateRatio(0, 1000, 0, 1000).method).toBe('none');
  });
});
