/**
 * Counting Atomics operations on a path, honestly: the global Atomics methods are wrapped with
 * counters for a separate counting pass, and restored before anything is timed (the wrappers cost
 * far more than the operations they count, and swapping them deoptimises every caller). The
 * allocator, the locks and the race hook all call `Atomics.x(...)` through the global object, never
 * a cached reference, so the wrappers see every call.
 *
 * Count, then time: a path's price on these machines is roughly its Atomics operations times the
 * raw cost of one (about two thirds of the allocation cycle, docs/benchmarks.md), which the micro
 * benchmark measures in the same run.
 */
export const ATOMICS_METHODS = [
  'load', 'store', 'add', 'sub', 'and', 'or', 'xor', 'exchange', 'compareExchange', 'wait', 'notify', 'waitAsync',
] as const;
export type AtomicsMethod = (typeof ATOMICS_METHODS)[number];

export interface AtomicsCount {
  /** Operations per call of the counted function, all methods together. */
  total: number;
  /** Per method, per call; methods never called are left out. */
  byMethod: Partial<Record<AtomicsMethod, number>>;
  /** Calls the average is over. */
  calls: number;
}

let counting = false;

/**
 * Runs `fn` `calls` times with every Atomics method counted; returns operations per call. Not
 * re-entrant, and not for timing: the wrappers are slow and the counted code deoptimises.
 */
export function countAtomics(fn: () => unknown, calls = 1000): AtomicsCount {
  return countAtomicsPhases({ all: fn }, calls).all!;
}

/**
 * Runs the phases in order, `calls` times over, counting each phase's Atomics operations apart
 * (alloc, write, put, free of one cycle: each phase needs the one before it).
 */
export function countAtomicsPhases(phases: Record<string, () => unknown>, calls = 1000): Record<string, AtomicsCount> {
  if (!Number.isInteger(calls) || calls < 1) throw new RangeError(`calls: must be an integer ≥ 1, got ${String(calls)}`);
  if (counting) throw new Error('countAtomics: already counting (not re-entrant)');
  const names = Object.keys(phases);
  const fns = names.map((n) => phases[n]!);
  // counts[phase * M + method]
  const M = ATOMICS_METHODS.length;
  const counts = new Float64Array(names.length * M);
  let current = 0;
  const target = Atomics as unknown as Record<string, unknown>;
  const originals = new Map<number, unknown>();
  counting = true;
  try {
    ATOMICS_METHODS.forEach((m, k) => {
      const orig = target[m];
      if (typeof orig !== 'function') return;
      originals.set(k, orig);
      const f = orig as (...args: unknown[]) => unknown;
      target[m] = function counted(...args: unknown[]): unknown {
        counts[current * M + k]!++;
        return f.apply(Atomics, args);
      };
    });
    for (let i = 0; i < calls; i++) {
      for (let p = 0; p < fns.length; p++) {
        current = p;
        fns[p]!();
      }
    }
  } finally {
    for (const [k, orig] of originals) target[ATOMICS_METHODS[k]!] = orig;
    counting = false;
  }
  const out: Record<string, AtomicsCount> = {};
  names.forEach((name, p) => {
    const byMethod: Partial<Record<AtomicsMethod, number>> = {};
    let total = 0;
    ATOMICS_METHODS.forEach((m, k) => {
      const c = counts[p * M + k]!;
      if (c === 0) return;
      byMethod[m] = c / calls;
      total += c;
    });
    out[name] = { total: total / calls, byMethod, calls };
  });
  return out;
}

/** Sum of several counts (a cycle's phases). */
export function addCounts(parts: readonly AtomicsCount[]): AtomicsCount {
  const byMethod: Partial<Record<AtomicsMethod, number>> = {};
  let total = 0;
  for (const p of parts) {
    total += p.total;
    for (const [m, n] of Object.entries(p.byMethod)) byMethod[m as AtomicsMethod] = (byMethod[m as AtomicsMethod] ?? 0) + n!;
  }
  return { total, byMethod, calls: Math.min(...parts.map((p) => p.calls)) };
}

/** "3 load + 2 compareExchange" */
export function fmtAtomics(c: AtomicsCount): string {
  const parts = Object.entries(c.byMethod).map(([m, n]) => `${Number(n!.toPrecision(3))} ${m}`);
  return parts.length === 0 ? 'none' : parts.join(' + ');
}
