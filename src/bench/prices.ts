/**
 * The price of each fix: a configuration's throughput divided by its baseline's, round by round
 * (both were measured in the same round, minutes apart at most), summarised as median and spread
 * over rounds. Price = 1 − ratio: +3% means 3% fewer cycles per second than the baseline.
 *
 * Against early/none (same cursor setting) at one worker this is pure overhead. At several workers
 * the unfixed path corrupts the filesystem and its workload changes (docs/benchmarks.md), so there the
 * fixes are also priced against the other correct variants: seqlock against keylock, and each early
 * fix against the freelist allocator (correct by construction: its lookup is locked).
 */
import { summarize, type Summary } from './stats.js';
import { configLabel, type AllocConfig } from './cycle.js';
import type { ScalingResult } from './scaling.js';
import type { MicroResult } from './micro.js';

export interface PriceRow {
  /** The configuration priced. */
  label: string;
  /** What it is divided by. */
  baseline: string;
  workers: number;
  /** throughput / baseline throughput, per round. */
  ratio: Summary;
  /** 1 − ratio, per round (positive: slower than the baseline). */
  price: Summary;
  /** The target price, where there is one (seqlock 3% at 1 worker, 5% at 4; keylock 10%). */
  target: number | null;
  /** Median price ≤ target; null when there is no target. */
  met: boolean | null;
}

export function targetFor(fix: string, baseline: string, workers: number): number | null {
  if (!baseline.startsWith('early/none')) return null;
  if (fix === 'seqlock') return workers === 1 ? 0.03 : workers === 4 ? 0.05 : null;
  if (fix === 'keylock') return workers === 1 || workers === 4 ? 0.10 : null;
  return null;
}

function row(label: string, baseline: string, workers: number, a: readonly number[], b: readonly number[], fix: string | null, higherIsBetter: boolean): PriceRow {
  const n = Math.min(a.length, b.length);
  const ratios: number[] = [];
  for (let r = 0; r < n; r++) {
    // Throughput: a / b. Time per cycle: b / a (so that the ratio is always "speed relative to baseline").
    ratios.push(higherIsBetter ? a[r]! / b[r]! : b[r]! / a[r]!);
  }
  const ratio = summarize(ratios);
  const price = summarize(ratios.map((x) => 1 - x));
  const target = fix === null ? null : targetFor(fix, baseline, workers);
  return { label, baseline, workers, ratio, price, target, met: target === null || price.n === 0 ? null : price.median <= target };
}

const same = (a: AllocConfig, b: Partial<AllocConfig>): boolean =>
  (b.allocator === undefined || a.allocator === b.allocator) && (b.fix === undefined || a.fix === b.fix) && (b.cursorFix === undefined || a.cursorFix === b.cursorFix);

/** Prices from the scaling sweep, at every worker count it ran. */
export function pricesFromScaling(s: ScalingResult): PriceRow[] {
  const out: PriceRow[] = [];
  for (const w of s.workers) {
    const at = s.points.filter((p) => p.workers === w);
    const find = (c: Partial<AllocConfig>) => at.find((p) => same(p.config, c));
    for (const cursorFix of [false, true]) {
      const base = find({ allocator: 'early', fix: 'none', cursorFix });
      if (base === undefined) continue;
      // Everything against the unfixed early path.
      for (const p of at) {
        if (p.config.cursorFix !== cursorFix || p === base) continue;
        out.push(row(p.label, base.label, w, p.throughput.samples, base.throughput.samples, p.config.allocator === 'early' ? p.config.fix : null, true));
      }
      // The correct variants against each other.
      const seq = find({ allocator: 'early', fix: 'seqlock', cursorFix });
      const key = find({ allocator: 'early', fix: 'keylock', cursorFix });
      const fl = find({ allocator: 'freelist', fix: 'none', cursorFix });
      if (seq && key) out.push(row(seq.label, key.label, w, seq.throughput.samples, key.throughput.samples, null, true));
      if (fl) {
        for (const p of [seq, key]) if (p) out.push(row(p.label, fl.label, w, p.throughput.samples, fl.throughput.samples, null, true));
      }
    }
  }
  return out;
}

/** Single-thread prices from the micro benchmark's cycle figures (ns per cycle; same rounds). */
export function pricesFromCycles(m: MicroResult): PriceRow[] {
  const cycles = m.entries.filter((e) => e.group === 'cycle' && e.config !== undefined);
  const out: PriceRow[] = [];
  for (const cursorFix of [false, true]) {
    const base = cycles.find((e) => same(e.config!, { allocator: 'early', fix: 'none', cursorFix }));
    if (base === undefined) continue;
    for (const e of cycles) {
      if (e.config!.cursorFix !== cursorFix || e === base) continue;
      out.push(row(configLabel(e.config!), configLabel(base.config!), 1, e.ns.samples, base.ns.samples, e.config!.allocator === 'early' ? e.config!.fix : null, false));
    }
  }
  return out;
}
