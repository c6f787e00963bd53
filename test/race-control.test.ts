import { describe, expect, it } from 'vitest';
import { RaceControl, ScheduleStallError } from '../src/race/control.js';
import { decodeSchedule, encodeSchedule, pctBound } from '../src/race/scheduler.js';
import { RacePoint } from '../src/alloc/race-points.js';
import { createFilesystem } from '../src/alloc/filesystem.js';
import { formatRate, raceRate } from '../src/torture/rates.js';

describe('race control', () => {
  it('policy none records nothing; observe records the last point and pass counts', () => {
    const rc = RaceControl.create({ workers: 2 });
    const hook = rc.hookFor(1);
    hook.at(RacePoint.candidateRead, 7, 3, false);
    expect(rc.positions()[1]!.lastPoint).toBeNull();
    rc.setPolicy('observe');
    hook.at(RacePoint.candidateRead, 7, 3, false);
    hook.at(RacePoint.afterPublish, 7, 3, false);
    expect(rc.positions()[1]).toMatchObject({ lastPoint: 'after-publish', lastBucket: 7, lastOpId: 3, passes: 2 });
    expect(rc.passCount(1, RacePoint.candidateRead)).toBe(1);
    expect(hook.recent().map((p) => p.point)).toEqual(['candidate-read', 'after-publish']);
  });

  it('pass counts, op counts and op ids cross 2^31 and 2^32 exactly; a full trace stops counting', () => {
    const rc = RaceControl.create({ workers: 1, traceCapacity: 2 });
    rc.setPolicy('observe');
    rc.setTrace(true);
    const hook = rc.hookFor(0);
    for (const edge of [2 ** 31, 2 ** 32]) {
      rc.counts[0] = edge - 1;
      rc.passes[RacePoint.candidateRead] = edge - 1;
      hook.at(RacePoint.candidateRead, 1, edge + 5, false);
      hook.at(RacePoint.candidateRead, 1, edge + 6, false);
      hook.setPhase(1, edge + 1);
      expect(rc.position(0)).toMatchObject({ passes: edge + 1, ops: edge + 1, lastOpId: edge + 6 });
      expect(rc.passCount(0, RacePoint.candidateRead)).toBe(edge + 1);
    }
    expect(rc.traceEntries().map((e) => e.opId)).toEqual([2 ** 31 + 5, 2 ** 31 + 6]);
    expect(Atomics.load(rc.ctl, 9)).toBe(2);
  });

  it('installed on a filesystem, the hook sees the allocation path in order', () => {
    const rc = RaceControl.create({ workers: 1, traceCapacity: 64 });
    rc.setPolicy('observe');
    rc.setTrace(true);
    const fs = createFilesystem({ buckets: 8, bucketSectors: 8, openBuckets: 8 });
    fs.setRaceHook(rc.hookFor(0));
    const ob = fs.allocBucket()!;
    fs.free(fs.write(ob, 2));
    fs.put(ob);
    expect(rc.traceEntries().map((e) => e.point)).toEqual([
      'candidate-read', 'before-freelist-lock', 'after-publish', 'before-commit', 'after-commit', 'before-free', 'before-put', 'after-put',
    ]);
  });

  it('a script rule that can never be satisfied fails within its timeout, naming the rule', () => {
    const rc = RaceControl.create({ workers: 2 });
    rc.setWaitTimeout(200);
    rc.setScript([{ worker: 0, at: 'candidate-read', untilWorker: 1, untilPoint: 'after-put' }]);
    const t0 = performance.now();
    expect(() => rc.hookFor(0).at(RacePoint.candidateRead, 0, 1, false)).toThrow(ScheduleStallError);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(() => rc.hookFor(0).at(RacePoint.candidateRead, 0, 1, false)).not.toThrow();
  });

  it('rejects bad policies naming the parameter', () => {
    const rc = RaceControl.create({ workers: 2 });
    expect(() => rc.setDelay({ kind: 'spin', ns: 10, probability: 1.5 })).toThrow(/delay.probability: must be a number in \[0, 1\]/);
    expect(() => rc.setDelay({ kind: 'nap' as never, ns: 10, probability: 0.1 })).toThrow(/delay.kind/);
    expect(() => rc.setDelay({ kind: 'spin', ns: 10, probability: 0.1, points: ['nowhere'] })).toThrow(/delay.points: unknown race point "nowhere"/);
    expect(() => rc.setScript([{ worker: 5, at: 'candidate-read', untilWorker: 0, untilPoint: 'after-put' }])).toThrow(/rules\[0\].worker/);
    expect(() => RaceControl.create({ workers: 0 })).toThrow(/workers/);
    expect(() => RaceControl.attach({ kind: 'nope' })).toThrow(/race control handle/);
  });

  it('a handle attaches to the same memory', () => {
    const rc = RaceControl.create({ workers: 2 });
    const other = RaceControl.attach(structuredClone(rc.handle));
    rc.setPolicy('observe');
    expect(other.policy()).toBe('observe');
  });
});

describe('schedule strings', () => {
  it('round-trip and refuse corruption', () => {
    const decisions = [0, 0, 1, 2, 2, 2, 0, 1];
    const s = encodeSchedule(3, decisions);
    expect(decodeSchedule(s)).toEqual({ workers: 3, decisions: Uint8Array.from(decisions) });
    expect(() => decodeSchedule('hello')).toThrow(/replay: is not a schedule string/);
    expect(() => decodeSchedule(s.replace('.8.', '.9.'))).toThrow(/replay: schedule says 9 steps/);
    expect(() => decodeSchedule(encodeSchedule(2, [0, 3]))).toThrow(/names a worker ≥ 2/);
  });

  it('PCT bound is 1/(n·k^(d−1))', () => {
    expect(pctBound(2, 100, 1)).toBe(1 / 2);
    expect(pctBound(4, 1000, 3)).toBeCloseTo(1 / (4 * 1e6), 18);
  });
});

describe('race rates', () => {
  it('Wilson interval around the estimate, rule of three at zero', () => {
    const r = raceRate(10, 1000);
    expect(r.rate).toBe(0.01);
    expect(r.low).toBeGreaterThan(0.005);
    expect(r.low).toBeLessThan(0.01);
    expect(r.high).toBeGreaterThan(0.01);
    expect(r.high).toBeLessThan(0.02);
    const zero = raceRate(0, 300_000);
    expect(zero).toMatchObject({ rate: 0, low: 0, high: 1e-5, method: 'rule-of-three' });
    expect(formatRate(zero)).toBe('< 10 per million (95%, rule of three)');
  });
});
