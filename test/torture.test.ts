/**
 * Multi-worker torture runs: real worker_threads sharing one filesystem, released by a start
 * barrier. The unfixed configurations are the negative controls: the same harness with the
 * protection off must find the corruption (expect: 'race'), or the clean results prove nothing.
 */
import { describe, expect, it } from 'vitest';
import { runTorture, type TortureOptions } from '../src/torture/runner.js';

const DELAY = { kind: 'spin' as const, ns: 10_000, probability: 0.2 };
const FREE: TortureOptions = { workers: 4, seed: 20231019, delay: DELAY };

describe('free-running torture, 4 workers with small delays at the race points', () => {
  it('negative control: early + none finds duplicates (expect race → SUCCESS)', async () => {
    const r = await runTorture({ ...FREE, allocator: 'early', fix: 'none', ops: 4000, expect: 'race' });
    expect(r.verdict).toBe('SUCCESS');
    expect(r.exitCode).toBe(0);
    expect(r.errors.duplicate_backpointer).toBeGreaterThan(0);
    expect(r.racyAllocations).toBeGreaterThan(0);
    // The oracle counts every duplicate allocation; the writers saw errors in no more of them.
    expect(r.duplicates.count).toBeGreaterThan(0);
    expect(r.duplicates.count).toBeGreaterThanOrEqual(r.racyAllocations);
    expect(r.raceRate.rate).toBeCloseTo(r.duplicates.count / r.allocations, 12);
    const d = r.duplicates;
    expect(d.lostData + d.metadataOnly + d.latent).toBe(d.count);
    expect(r.raceRate.method).toBe('wilson');
    expect(r.firstViolation).not.toBeNull();
    expect(r.firstViolation!.recent.length).toBeGreaterThan(0);
  });

  it('negative control: freelist with the lookup unlocked races too', async () => {
    const r = await runTorture({ ...FREE, allocator: 'freelist', freelistLookup: 'unlocked', ops: 4000, expect: 'race' });
    expect(r.verdict).toBe('SUCCESS');
    expect(r.errors.total).toBeGreaterThan(0);
  });

  for (const fix of [
    { name: 'early + seqlock', options: { allocator: 'early', fix: 'seqlock' } },
    { name: 'early + keylock', options: { allocator: 'early', fix: 'keylock' } },
    { name: 'freelist + locked lookup', options: { allocator: 'freelist', fix: 'none', freelistLookup: 'locked' } },
  ] as const) {
    it(`${fix.name}: no corruption over ≥ 10^5 allocations, and the fix intervened`, async () => {
      const r = await runTorture({ ...FREE, ...fix.options, ops: 25_000, expect: 'clean' });
      expect(r.allocations).toBeGreaterThanOrEqual(100_000);
      expect(r.duplicates.count).toBe(0);
      expect(r.errors.total).toBe(0);
      // A run whose workers never met proves nothing: every worker allocated, and the fix refused
      // candidates that another worker was changing (revalidation retries, or locked re-reads that
      // found the bucket taken or its record busy).
      expect(Math.min(...r.perWorker)).toBeGreaterThan(0);
      const c = r.stats.counters;
      const interventions = fix.options.fix === 'seqlock' ? c.revalidationRetries : c.keylockRefusals + c.skippedBusy;
      expect(interventions).toBeGreaterThan(0);
      expect(r.fsck.ok).toBe(true);
      expect(r.verdict).toBe('SUCCESS');
      expect(r.raceRate.method).toBe('rule-of-three');
      expect(r.raceRate.high).toBeCloseTo(3 / r.allocations, 12);
    });
  }

  it('positive control failing: a fixed allocator under expect race is a harness error (exit 3)', async () => {
    const r = await runTorture({ ...FREE, fix: 'keylock', ops: 300, expect: 'race' });
    expect(r.verdict).toBe('HARNESS_ERROR');
    expect(r.exitCode).toBe(3);
    expect(r.reason).toMatch(/expected a race but found none/);
  });

  it('unexpected corruption is a FAILURE (exit 1)', async () => {
    const r = await runTorture({ ...FREE, ops: 4000 });
    expect(r.verdict).toBe('FAILURE');
    expect(r.exitCode).toBe(1);
  });
});

describe('controlled schedules', () => {
  const base: TortureOptions = { workers: 3, ops: 200, seed: 2, schedule: 'pct', depth: 2 };

  it('a pct run finds the race and its schedule replays to the identical outcome, twice', async () => {
    const first = await runTorture(base);
    // Controlled runs are deterministic: this seed's PCT schedule hits the race.
    expect(first.racyAllocations).toBeGreaterThan(0);
    expect(first.verdict).toBe('FAILURE');
    // sab2.<recorded settings>.<workers>.<steps>.<decisions>
    expect(first.schedule.string).toMatch(/^sab2\.[\w-]+\.3\./);
    expect(first.schedule.pct).toEqual({ n: 3, k: 200 * 3 * 12, d: 2, bound: 1 / (3 * 7200) });
    const outcome = (r: typeof first): unknown => ({
      errors: r.errors, racy: r.racyAllocations, perWorker: r.perWorker, steps: r.schedule.steps,
      fsck: r.fsck.first, byKind: r.fsck.byKind, first: r.firstViolation && { ...r.firstViolation, recent: r.firstViolation.recent },
    });
    for (let i = 0; i < 2; i++) {
      const again = await runTorture({ ...base, replay: first.schedule.string });
      expect(again.schedule.divergence).toBeNull();
      expect(outcome(again)).toEqual(outcome(first));
    }
  });

  it('a random schedule replays too; a replay with other settings is refused before it runs, naming them', async () => {
    const first = await runTorture({ ...base, schedule: 'random', ops: 100 });
    const same = await runTorture({ ...base, schedule: 'random', ops: 100, replay: first.schedule.string });
    expect(same.schedule.divergence).toBeNull();
    expect(same.errors).toEqual(first.errors);
    // The schedule kind and PCT's depth are not part of the work: a pct-flagged replay of it is the same run.
    expect((await runTorture({ ...base, ops: 100, replay: first.schedule.string })).schedule.divergence).toBeNull();
    await expect(runTorture({ ...base, schedule: 'random', ops: 60, seed: 9, replay: first.schedule.string }))
      .rejects.toThrow(/replay: this schedule was recorded with other settings: ops 100 \(this run: 60\), seed 2 \(this run: 9\)/);
    // A string from before settings were recorded (sab1) cannot be checked: the same mistake runs,
    // leaves the schedule, and the verdict says that different settings would explain it.
    const old = first.schedule.string!.replace(/^sab2\.[\w-]+\./, 'sab1.');
    const other = await runTorture({ ...base, schedule: 'random', ops: 60, replay: old });
    expect(other.schedule.divergence).not.toBeNull();
    expect(other.verdict).toBe('HARNESS_ERROR');
    expect(other.reason).toMatch(/nondeterminism: .*could not be checked/);
  });
});

describe('kills and stalls never hang', () => {
  it('--kill: a worker terminated at a race point; survivors finish, the in-flight op is reported', async () => {
    const r = await runTorture({ workers: 3, ops: 1500, seed: 5, kill: true, fix: 'keylock' });
    expect(r.kill?.happened).toBe(true);
    expect(r.kill?.inFlight?.lastPoint).toBe(r.kill?.point);
    const survivors = r.perWorker.filter((_, i) => i !== r.kill!.worker);
    expect(survivors.every((n) => n === 1500)).toBe(true);
    expect(r.perWorker[r.kill!.worker]).toBeLessThan(1500);
    expect(r.verdict).toBe('SUCCESS');
  });

  it('--kill under a controlled schedule hands the dead worker’s turn on', async () => {
    const r = await runTorture({ workers: 3, ops: 200, seed: 9, kill: true, schedule: 'random', fix: 'seqlock' });
    expect(r.kill?.happened).toBe(true);
    expect(r.verdict).toBe('SUCCESS');
  });

  it('a run that stops making progress is a STALL naming where every worker was', async () => {
    const r = await runTorture({
      workers: 2, ops: 1000, seed: 1, stallTimeoutS: 0.5,
      delay: { kind: 'sleep', ns: 1_000_000_000, probability: 1, scaleByWorkers: false, points: ['candidateRead'] },
    });
    expect(r.verdict).toBe('STALL');
    expect(r.exitCode).toBe(3);
    expect(r.stall?.positions.map((p) => p.lastPoint)).toEqual(['candidate-read', 'candidate-read']);
  });
});

describe('options', () => {
  it('rejects bad options naming the parameter', async () => {
    await expect(runTorture({ workers: 0 })).rejects.toThrow(/workers: must be an integer in \[1, 64\]/);
    await expect(runTorture({ ops: 10, seconds: 1 })).rejects.toThrow(/seconds: give either ops or seconds/);
    await expect(runTorture({ schedule: 'pct', seconds: 1 })).rejects.toThrow(/seconds: a controlled/);
    await expect(runTorture({ replay: 'sab1.2.3.x' })).rejects.toThrow(/replay: needs a controlled schedule/);
    await expect(runTorture({ schedule: 'pct', replay: 'nonsense' })).rejects.toThrow(/replay: is not a schedule string/);
    await expect(runTorture({ delay: { kind: 'spin', ns: 10, probability: 2 } })).rejects.toThrow(/delay.probability/);
    await expect(runTorture({ bogus: 1 } as never)).rejects.toThrow(/options.bogus: unknown option/);
  });
});
