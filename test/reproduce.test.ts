/**
 * The reported interleaving, replayed exactly by the script policy with two real workers. The
 * unfixed configurations are the negative controls of the fixed ones: same harness, same script,
 * protection off → the duplicate must appear.
 */
import { describe, expect, it } from 'vitest';
import { reproduceReportedRace, type ReproduceResult } from '../src/race/reproduce.js';

const steps = (r: ReproduceResult): string[] => r.trace.map((e) => `${e.worker === 0 ? 'T1' : 'T2'} ${e.point} ${e.bucket}`);

describe('reproduceReportedRace', () => {
  it('early + none: Task 1 reopens the bucket Task 2 filled and released → duplicate backpointer, named by fsck', async () => {
    const r = await reproduceReportedRace({ allocator: 'early', fix: 'none' });
    expect(r.sameBucket).toBe(true);
    expect(r.duplicate).toBe(true);
    expect(r.corrupted).toBe(true);
    expect(r.fsck.byKind.duplicate_backpointer).toBe(1);
    expect(r.fsck.errors.find((e) => e.kind === 'duplicate_backpointer')?.bucket).toBe(0);
    expect(r.tasks[0].errorKinds).toContain('duplicate_backpointer');
    expect(r.tasks[1].errorKinds).toEqual([]);
    // The steps of the report, in order: T1 reads K; T2 reads, opens, commits and releases K; T1 opens K.
    expect(steps(r)).toEqual([
      'T1 candidate-read 0',
      'T2 candidate-read 0',
      'T2 before-freelist-lock 0',
      'T2 after-publish 0',
      'T2 before-commit 0',
      'T2 after-commit 0',
      'T2 before-put 0',
      'T2 after-put 0',
      'T1 before-freelist-lock 0',
      'T1 after-publish 0',
      'T1 before-commit 0',
      'T1 after-commit 0',
      'T1 commit-failed 0',
      'T1 before-put 0',
      'T1 after-put 0',
    ]);
    expect(r.narrative).toHaveLength(r.trace.length);
    expect(r.narrative[0]).toMatch(/^Task 1 .*candidate-read.*bucket +0/);
  });

  it('user vs btree: the same race shows as a data-type mismatch', async () => {
    const r = await reproduceReportedRace({ allocator: 'early', fix: 'none', dataTypes: ['user', 'btree'] });
    expect(r.mismatch).toBe(true);
    expect(r.fsck.byKind.data_type_mismatch).toBeGreaterThan(0);
    expect(r.errors.map((e) => e.kind)).toContain('data_type_mismatch');
  });

  it('early + none with the cursor fix still races: the cursor narrows the window, it does not close it', async () => {
    const r = await reproduceReportedRace({ allocator: 'early', fix: 'none', cursorFix: true });
    expect(r.duplicate).toBe(true);
  });

  it('early + seqlock: the parked task sees the sequence moved, skips the stale bucket, opens another; fsck clean', async () => {
    const r = await reproduceReportedRace({ allocator: 'early', fix: 'seqlock' });
    expect(r.corrupted).toBe(false);
    expect(r.fsck.ok).toBe(true);
    expect(r.sameBucket).toBe(false);
    expect(r.tasks[1].bucket).toBe(0);
    expect(r.tasks[0].bucket).toBe(1);
    expect(steps(r)).toContain('T1 revalidate-failed 0');
    expect(steps(r).indexOf('T1 revalidate-failed 0')).toBeGreaterThan(steps(r).indexOf('T2 after-put 0'));
  });

  it('early + keylock: the locked re-read refuses the bucket; fsck clean', async () => {
    const r = await reproduceReportedRace({ allocator: 'early', fix: 'keylock', dataTypes: ['user', 'btree'] });
    expect(r.corrupted).toBe(false);
    expect(r.tasks[0].bucket).toBe(1);
    expect(steps(r)).toContain('T1 locked-reread-refused 0');
  });

  it('freelist + locked lookup is clean; the same path with the lookup unlocked races', async () => {
    const locked = await reproduceReportedRace({ allocator: 'freelist', freelistLookup: 'locked' });
    expect(locked.corrupted).toBe(false);
    expect(steps(locked)).toContain('T1 locked-reread-refused 0');
    const unlocked = await reproduceReportedRace({ allocator: 'freelist', freelistLookup: 'unlocked' });
    expect(unlocked.duplicate).toBe(true);
    expect(unlocked.fsck.byKind.duplicate_backpointer).toBe(1);
  });

  it('rejects bad options with the parameter named', async () => {
    await expect(reproduceReportedRace({ fix: 'bogus' as never })).rejects.toThrow(/fix/);
    await expect(reproduceReportedRace({ dataTypes: ['user', 'nope'] as never })).rejects.toThrow(/dataTypes\[1\]/);
    await expect(reproduceReportedRace({ sectors: 0 })).rejects.toThrow(/sectors.*\[1, 16\]/);
  });
});
