/**
 * Multi-worker lock torture: real worker_threads sharing SharedArrayBuffers, started together behind
 * a StartBarrier, watched by a watchdog, terminated in the runner's finally. Each property is paired
 * with a negative control run through the same harness with the protection switched off, and the
 * test asserts that the control did break: a harness that cannot see a busted lock fail proves
 * nothing about a real one.
 *
 * Longer local runs: LOCK_TORTURE_ITERATIONS=10000000 LOCK_TORTURE_READS=5000000 npx vitest run test/lock-torture.test.ts
 */
import { describe, expect, it } from 'vitest';
import {
  REAL_LOCK_KINDS, TortureStallError, runDeadOwner, runLockTorture, runReaderCrashTorture, runSeqBeginRace, runSeqlockConsistency,
} from '../src/torture/lock-torture.js';
import { ConfigError } from '../src/shared/validate.js';

const ITERATIONS = Number(process.env.LOCK_TORTURE_ITERATIONS ?? 1_000_000);
const READS = Number(process.env.LOCK_TORTURE_READS ?? 1_000_000);
const LONG = 120_000;

describe('mutual exclusion under real workers', () => {
  for (const kind of REAL_LOCK_KINDS) {
    for (const workers of [2, 4]) {
      it(`${kind}: ${workers} workers × ${ITERATIONS} critical sections lose nothing`, async () => {
        const r = await runLockTorture({ kind, workers, iterations: ITERATIONS });
        expect(r.expected).toBe(workers * ITERATIONS);
        expect(r.record).toEqual(new Array(4).fill(r.expected));
        expect(r.lostUpdates).toBe(0);
        expect(r.tornRecord).toBe(false);
        expect(r.canaryTrips).toBe(0);
        expect(r.perWorker).toHaveLength(workers);
        const acquisitions = r.perWorker.reduce((n, w) => n + w.stats.acquisitions!, 0);
        expect(acquisitions).toBe(workers * ITERATIONS);
        // Evidence: the workers overlapped. A run in which nobody ever waited proves nothing.
        expect(r.contended + r.parks).toBeGreaterThan(0);
      }, LONG);
    }

    it(`${kind}, robust (built with a ThreadRegistry): 2 workers × ${ITERATIONS} lose nothing, under contention`, async () => {
      const r = await runLockTorture({ kind, workers: 2, iterations: ITERATIONS, robust: true });
      expect(r.lostUpdates).toBe(0);
      expect(r.tornRecord).toBe(false);
      expect(r.canaryTrips).toBe(0);
      expect(r.contended + r.parks).toBeGreaterThan(0);
    }, LONG);
  }

  it('the contention evidence can be 0: one worker alone never waits (so "> 0" above means something)', async () => {
    const r = await runLockTorture({ kind: 'mutex', workers: 1, iterations: 100_000 });
    expect(r.lostUpdates).toBe(0);
    expect(r.contended).toBe(0);
    expect(r.parks).toBe(0);
  }, LONG);

  it('negative control: the busted lock loses updates or trips the canary, and the harness sees it', async () => {
    // Detection does not depend on true parallelism: on one core a preemption inside the critical
    // section is enough, and two million sections span many time slices.
    const r = await runLockTorture({ kind: 'busted', workers: 2, iterations: ITERATIONS });
    console.info(`busted, 2 workers: lost ${r.lostUpdates} of ${r.expected}, canary trips ${r.canaryTrips}`);
    expect(r.lostUpdates > 0 || r.canaryTrips > 0).toBe(true);
    expect(r.lostUpdates).toBeGreaterThan(0);
  }, LONG);

  it('negative control, oversubscribed: 4 workers with the busted lock also fail', async () => {
    const r = await runLockTorture({ kind: 'busted', workers: 4, iterations: Math.max(1, ITERATIONS / 2) });
    console.info(`busted, 4 workers: lost ${r.lostUpdates} of ${r.expected}, canary trips ${r.canaryTrips}`);
    expect(r.lostUpdates > 0 || r.canaryTrips > 0).toBe(true);
  }, LONG);

  it(`rwlock readers beside writers: 2 writers + 2 readers × ${ITERATIONS}, no reader ever sees a writer or a torn record`, async () => {
    const r = await runLockTorture({ kind: 'rwlock', workers: 2, readers: 2, iterations: ITERATIONS });
    expect(r.lostUpdates).toBe(0);
    expect(r.canaryTrips).toBe(0);
    expect(r.readers).toHaveLength(2);
    expect(r.readerCanaryTrips).toBe(0);
    expect(r.tornReads).toBe(0);
    for (const reader of r.readers) expect(reader.stats.acquisitions).toBe(ITERATIONS);
    expect(r.contended + r.parks).toBeGreaterThan(0);
  }, LONG);

  it(`robust rwlock, readers beside writers: 2 + 2 × ${ITERATIONS}, every read hold listed and cleared, nothing seen or lost`, async () => {
    const r = await runLockTorture({ kind: 'rwlock', workers: 2, readers: 2, iterations: ITERATIONS, robust: true });
    expect(r.lostUpdates).toBe(0);
    expect(r.canaryTrips).toBe(0);
    expect(r.readerCanaryTrips).toBe(0);
    expect(r.tornReads).toBe(0);
    for (const reader of r.readers) expect(reader.stats.acquisitions).toBe(ITERATIONS);
    expect(r.contended + r.parks).toBeGreaterThan(0);
  }, LONG);

  it('negative control for readers: without the lock, readers see writers inside and torn records', async () => {
    const r = await runLockTorture({ kind: 'busted', workers: 2, readers: 2, iterations: ITERATIONS });
    console.info(`busted readers: ${r.readerCanaryTrips} canary trips, ${r.tornReads} torn reads`);
    expect(r.readerCanaryTrips + r.tornReads).toBeGreaterThan(0);
  }, LONG);

  it('rejects bad options naming the parameter and its range', async () => {
    await expect(runLockTorture({ kind: 'spin', workers: 0 })).rejects.toThrow(/workers: must be an integer in \[1, 64\], got 0/);
    await expect(runLockTorture({ kind: 'nope' as never })).rejects.toThrow(ConfigError);
    await expect(runLockTorture({ kind: 'spin', iterations: 1.5 })).rejects.toThrow(/iterations: must be an integer in \[1, 100000000\]/);
    await expect(runLockTorture({ kind: 'spin', workers: 64, iterations: 100_000_000 })).rejects.toThrow(/iterations: workers × iterations must be at most/);
    await expect(runLockTorture({ kind: 'spin', iteratons: 5 } as never)).rejects.toThrow(/options.iteratons: unknown option/);
    await expect(runLockTorture({ kind: 'mutex', readers: 1 })).rejects.toThrow(/readers: applies to kinds "rwlock" and "busted" only/);
  });
});

describe('seqlock consistency', () => {
  it(`readers that honour readRetry accept no broken snapshot in ${READS} reads; readers that ignore it see some`, async () => {
    const r = await runSeqlockConsistency({ readers: ['honour', 'honour', 'read-fn', 'ignore'], reads: READS });
    expect(r.writes).toBeGreaterThan(0);
    for (const reader of r.readers) expect(reader.accepted).toBe(READS);
    const honouring = r.readers.filter((x) => x.mode !== 'ignore');
    for (const reader of honouring) expect(reader.brokenAccepted).toBe(0);
    expect(r.brokenAccepted).toBe(0);
    // Evidence: writes overlapped the honouring readers' passes.
    expect(r.retriesHonouring).toBeGreaterThan(0);
    console.info(`seqlock: ${r.writes} writes; retries ${r.readers.map((x) => x.attempts - x.accepted).join('/')}; ignoring reader saw ${r.brokenSeenIgnoring} broken snapshots`);
    // Negative control in the same run, under the same writer: without readRetry, tears get through.
    expect(r.brokenSeenIgnoring).toBeGreaterThan(0);
  }, LONG);

  it('negative control alone: one writer and one reader that ignores readRetry', async () => {
    const r = await runSeqlockConsistency({ readers: ['ignore'], reads: READS });
    console.info(`seqlock, ignoring reader alone: ${r.brokenSeenIgnoring} broken snapshots in ${READS} reads`);
    expect(r.brokenSeenIgnoring).toBeGreaterThan(0);
  }, LONG);
});

describe('seqlock writeBegin race (issue 8)', () => {
  it('an unserialised second writeBegin never makes the sequence even mid-write; control: the old add-then-undo does', async () => {
    // Each refused writeBegin throws, which is slow; the observer's 3 s bound may end the run first.
    const r = await runSeqBeginRace({ iterations: 100_000 });
    expect(r.calls).toBeGreaterThan(10_000);
    expect(r.refused).toBe(r.calls);
    expect(r.whileHammering).toBeGreaterThan(0);
    expect(r.evenSeen).toBe(0);
    expect(r.finalSequence).toBe(1);
    const control = await runSeqBeginRace({ legacy: true });
    console.info(`writeBegin race: 0 even in ${r.whileHammering} samples; legacy control saw ${control.evenSeen} in ${control.whileHammering}`);
    expect(control.whileHammering).toBeGreaterThan(0);
    expect(control.evenSeen).toBeGreaterThan(0);
  }, LONG);
});

describe('reader crash torture (robust RwLock, issue 9)', () => {
  it('readers killed at random moments never stall the writers, never let one in beside a reader, and leak no hold', async () => {
    // Each run must be clean; at least one of at most three must show a kill inside a read hold
    // (a takeover): that is the evidence that the reclaim path ran under real races.
    let takeovers = 0;
    for (let run = 0; run < 3 && takeovers === 0; run++) {
      const r = await runReaderCrashTorture({ writers: 2, readers: 4, kills: 3, runMs: 1000 });
      console.info(`reader crash torture (seed ${r.seed}): killed at ${r.killed.map((k) => k.atMs).join('/')} ms; ${r.takeovers} takeover(s); ` +
        `${r.writerSections} write and ${r.readerSections} read sections`);
      expect(r.killed).toHaveLength(3);
      expect(r.writerOutcomes).toEqual(['ok', 'ok']);
      expect(r.canaryTrips).toBe(0);
      expect(r.readerCanaryTrips).toBe(0);
      expect(r.tornReads).toBe(0);
      expect(r.tornRecord).toBe(false);
      expect(r.finalWord).toBe(0);
      expect(r.deadAfterRecovery).toBe(0);
      expect(r.writerSections).toBeGreaterThan(0);
      expect(r.contended + r.parks).toBeGreaterThan(0);
      takeovers += r.takeovers;
    }
    expect(takeovers).toBeGreaterThan(0);
  }, LONG);

  it('negative control: the same run without the registry — a killed reader\'s hold stalls the writers', async () => {
    // Readers spend most of their time inside their read hold, so a kill nearly always leaves one behind.
    const r = await runReaderCrashTorture({ writers: 2, readers: 4, kills: 3, runMs: 1000, robust: false, lockTimeoutMs: 300 });
    expect(r.writerOutcomes).toContain('LockTimeoutError');
    expect(r.finalWord & ((1 << 27) - 1)).toBeGreaterThan(0);
  }, LONG);
});

describe('dead owner', () => {
  for (const kind of REAL_LOCK_KINDS) {
    for (const death of ['exit', 'terminate'] as const) {
      it(`${kind}: a holder that ${death === 'exit' ? 'exits' : 'is terminated'} holding the lock makes others fail fast, naming it`, async () => {
        const t0 = performance.now();
        const r = await runDeadOwner({ kind, death, waiters: 2, lockTimeoutMs: 200, seqReader: kind === 'seqlock' });
        expect(performance.now() - t0).toBeLessThan(10_000);
        expect(r.ownerAfterDeath).toBe(r.deadOwnerId);
        expect(r.waiters).toHaveLength(2);
        for (const w of r.waiters) {
          expect(w.acquired).toBe(false);
          expect(w.errorName).toBe('LockTimeoutError');
          expect(w.owner).toBe(r.deadOwnerId);
          expect(w.ownerWorker).toBe(r.deadWorker);
          expect(w.message).toContain(`owner ${r.deadOwnerId}`);
          expect(w.elapsedMs).toBeGreaterThanOrEqual(190);
          expect(w.elapsedMs).toBeLessThan(5_000);
        }
        if (kind === 'seqlock') {
          const s = r.seqReader!;
          expect(s.errorName).toBe('LockTimeoutError');
          expect(s.owner).toBe(r.deadOwnerId);
          expect(s.message).toContain(`writer owner ${r.deadOwnerId}`);
        }
        expect(r.allTerminated).toBe(true);
      }, 30_000);
    }
  }
});

describe('watchdog', () => {
  it('a stalled run is terminated and each worker\'s progress reported', async () => {
    // A 4-word record would be done in a second; give the watchdog a run it must cut short.
    const err = await runLockTorture({ kind: 'mutex', workers: 2, iterations: 50_000_000, timeoutMs: 300, stallMs: 5_000 })
      .then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(TortureStallError);
    const stall = err as TortureStallError;
    expect(stall.message).toMatch(/did not finish within 300 ms/);
    expect(stall.progress).toHaveLength(2);
    for (const p of stall.progress) {
      expect(p.phase).toBe('running');
      expect(p.progress).toBeGreaterThan(0);
      expect(p.progress).toBeLessThan(50_000_000);
      expect(p.alive).toBe(true);
    }
    expect(stall.message).toMatch(/worker 0 \(owner id \d+\): running, progress \d+/);
    expect([0, ...stall.progress.map((p) => p.ownerId)]).toContain(stall.lockOwner);
  }, 30_000);

  it('a stalled seqlock run names the writer lock\'s holder (or nobody), not a reading of the sequence word', async () => {
    const err = await runSeqlockConsistency({ readers: ['honour'], reads: 100_000_000, timeoutMs: 300, stallMs: 5_000 })
      .then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(TortureStallError);
    const stall = err as TortureStallError;
    expect(stall.progress).toHaveLength(2);
    expect([0, stall.progress[0]!.ownerId]).toContain(stall.lockOwner);
  }, 30_000);
});
