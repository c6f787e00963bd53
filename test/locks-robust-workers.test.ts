/**
 * Robust locks with real worker_threads that really die (issue 9). For every lock kind — SpinLock,
 * Mutex, RwLock write side, RwLock read side, RwLockArray, SeqLock writer — a worker takes the lock
 * and parks inside its critical section, a second worker waits for it, the runner terminates the
 * holder and reports the death; the survivor must acquire within 100 ms of the report and be told
 * 'owner-died'. Then the two rules: unlock without markConsistent ⇒ the next acquire throws
 * LockNotRecoverableError; markConsistent ⇒ the lock works normally.
 *
 * Negative control for each kind: the same run with the lock built without the registry — the death
 * is still reported — must leave the survivor to its (short) timeout.
 *
 * The 100 ms bound is a promise about the protocol (a waiter with a registry looks at it every
 * 25 ms slice), not a speed measurement; it holds with wide margin on a loaded machine.
 */
import { describe, expect, it } from 'vitest';
import { ROBUST_SUBJECTS, runDeadHolder } from '../src/torture/lock-torture-robust.js';

const REPORT_TO_ACQUIRE_MS = 100;

describe('a holder killed inside its critical section', () => {
  for (const subject of ROBUST_SUBJECTS) {
    it(`${subject}: the waiting survivor takes over within ${REPORT_TO_ACQUIRE_MS} ms of the report, told owner-died; repaired, the lock works`, async () => {
      const r = await runDeadHolder({ subject, mode: 'consistent' });
      expect(r.markedDead).toHaveLength(1);
      expect(r.waiter.errorName).toBeNull();
      expect(r.waiter.result).toBe('owner-died');
      expect(r.waiter.endedAt).toBeGreaterThanOrEqual(r.reportedAt);
      expect(r.latencyMs).toBeLessThan(REPORT_TO_ACQUIRE_MS);
      expect(r.waiter.recordWhole).toBe(true);
      expect(r.waiter.after).toBe('acquired');
      expect(r.notRecoverable).toBe(false);
      expect(r.allTerminated).toBe(true);
    }, 30_000);

    it(`${subject}: unlocked without markConsistent, the lock is not recoverable`, async () => {
      const r = await runDeadHolder({ subject, mode: 'abandon', report: 'watchWorker' });
      expect(r.markedDead).toHaveLength(1);
      expect(r.waiter.result).toBe('owner-died');
      expect(r.latencyMs).toBeLessThan(REPORT_TO_ACQUIRE_MS);
      expect(r.waiter.after).toBe('LockNotRecoverableError');
      expect(r.notRecoverable).toBe(true);
      expect(r.allTerminated).toBe(true);
    }, 30_000);

    it(`${subject}: negative control — built without the registry, the survivor waits out its timeout`, async () => {
      const r = await runDeadHolder({ subject, robust: false, survivorTimeoutMs: 300 });
      expect(r.markedDead).toHaveLength(1);
      expect(r.waiter.result).toBeNull();
      expect(r.waiter.errorName).toBe('LockTimeoutError');
      expect(r.waiter.endedAt - r.waiter.startedAt).toBeGreaterThanOrEqual(290);
      if (subject !== 'rwlock-read' && subject !== 'rwlock-array') expect(r.waiter.message).toContain(`owner ${r.holderOwnerId}`);
      expect(r.allTerminated).toBe(true);
    }, 30_000);
  }

  it('rwlock write side: a reader survivor takes a dead writer\'s lock over too', async () => {
    const r = await runDeadHolder({ subject: 'rwlock-write', survivorSide: 'read' });
    expect(r.waiter.result).toBe('owner-died');
    expect(r.latencyMs).toBeLessThan(REPORT_TO_ACQUIRE_MS);
    expect(r.waiter.recordWhole).toBe(true);
    expect(r.waiter.after).toBe('acquired');
  }, 30_000);

  it('seqlock: an optimistic reader of a dead writer\'s odd sequence is told at once; control: without a registry it times out', async () => {
    const r = await runDeadHolder({ subject: 'seqlock', waiter: 'seq-reader' });
    expect(r.waiter.errorName).toBe('SeqWriteAbandonedError');
    expect(r.waiter.message).toContain(`the writer (owner ${r.holderOwnerId}) died mid-write`);
    expect(r.latencyMs).toBeLessThan(REPORT_TO_ACQUIRE_MS);
    const control = await runDeadHolder({ subject: 'seqlock', waiter: 'seq-reader', robust: false, survivorTimeoutMs: 300 });
    expect(control.waiter.errorName).toBe('LockTimeoutError');
    expect(control.waiter.message).toContain(`writer owner ${control.holderOwnerId}`);
  }, 30_000);

  it('rejects bad options naming the parameter', async () => {
    await expect(runDeadHolder({ subject: 'nope' as never })).rejects.toThrow(/subject: must be one of/);
    await expect(runDeadHolder({ subject: 'spin', waiter: 'seq-reader' })).rejects.toThrow(/waiter: "seq-reader" applies to subject "seqlock" only/);
    await expect(runDeadHolder({ subject: 'spin', survivorTimeoutMs: 0 })).rejects.toThrow(/survivorTimeoutMs: must be an integer in \[1, 600000\]/);
    await expect(runDeadHolder({ subject: 'spin', extra: 1 } as never)).rejects.toThrow(/options.extra: unknown option/);
  });
});
