/**
 * Worker entry of the dead-holder runs (runs from dist/). It does one role, named in workerData, and
 * posts one message with its report; the runner (lock-torture-robust.ts) terminates it in any case.
 *
 *   hold      join, take the lock, write half of a new record version (seqlock), publish "holding",
 *             then park on the release word (bounded) — the runner terminates it there
 *   survive   join, wait for go, publish "waiting", take the lock (it parks: the holder has it), and
 *             then exercise the recovery rule of its mode
 *   seq-read  join, wait for go, publish "waiting", readBegin on the seqlock the holder left odd
 *
 * Its phase word (control of the watchdog) is published with Atomics.store at every step.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attachRegion } from '../shared/region.js';
import { SeqLock, ThreadRegistry } from '../locks/index.js';
import {
  GO, MEMBERS, Phase, RECORD_WORDS, RELEASE, ROBUST_KIND, ROBUST_VERSION, type RobustWorkerData, type SurvivorReport,
  epochMs, holderSide, makeSubject, recordWord, robustSpec,
} from './lock-torture-robust-layout.js';

const data = workerData as RobustWorkerData;
const region = attachRegion(data.handle, { kind: ROBUST_KIND, version: ROBUST_VERSION, spec: robustSpec() });
const control = region.i32('control');
const phases = region.i32('phases');
const record = region.i32('record');
const locks = region.i32('locks');
const registry = new ThreadRegistry(region.i32('registry'), 0, MEMBERS);

function setPhase(p: number): void {
  Atomics.store(phases, data.worker * 16, p);
}

function waitForGo(timeoutMs: number): void {
  const deadline = performance.now() + timeoutMs;
  while (Atomics.load(control, GO) === 0) {
    const left = deadline - performance.now();
    if (left <= 0) throw new Error(`no go signal within ${timeoutMs} ms`);
    Atomics.wait(control, GO, 0, Math.min(left, 50));
  }
}

function errorName(e: unknown): string {
  return e instanceof Error ? e.name : String(e);
}

function run(): unknown {
  if (registry.join() < 0) throw new Error('registry full');
  setPhase(Phase.joined);
  const subject = makeSubject(data.subject, locks, data.robust ? registry : null);
  const role = data.role;

  if (role.kind === 'hold') {
    setPhase(Phase.acquiring);
    const side = holderSide(data.subject);
    subject.acquire(side, 5_000);
    // A writer dies half-way through version 1: a survivor that took over sees a mixed record.
    if (side === 'write') for (let k = 0; k < RECORD_WORDS / 2; k++) Atomics.store(record, k, recordWord(1, k));
    setPhase(Phase.holding);
    Atomics.wait(control, RELEASE, 0, role.parkMs);
    subject.release(side);
    setPhase(Phase.released);
    return { released: true };
  }

  if (role.kind === 'seq-read') {
    waitForGo(role.goTimeoutMs);
    const seq = new SeqLock(locks, 0, data.robust ? { registry } : {});
    setPhase(Phase.waiting);
    const startedAt = epochMs();
    const report: SurvivorReport = { result: null, errorName: null, message: null, startedAt, endedAt: 0, after: null, recordWhole: null };
    try {
      seq.readBegin(role.timeoutMs);
      report.result = 'acquired';
    } catch (e) {
      report.errorName = errorName(e);
      report.message = e instanceof Error ? e.message : String(e);
    }
    report.endedAt = epochMs();
    setPhase(Phase.done);
    return report;
  }

  waitForGo(role.goTimeoutMs);
  setPhase(Phase.waiting);
  const startedAt = epochMs();
  const report: SurvivorReport = { result: null, errorName: null, message: null, startedAt, endedAt: 0, after: null, recordWhole: null };
  try {
    report.result = subject.acquire(role.side, role.timeoutMs);
  } catch (e) {
    report.endedAt = epochMs();
    report.errorName = errorName(e);
    report.message = e instanceof Error ? e.message : String(e);
    setPhase(Phase.done);
    return report;
  }
  report.endedAt = epochMs();
  setPhase(Phase.acquired);
  if (role.mode === 'consistent') {
    // Repair: write the whole of version 2 (the holder left version 1 half-written), then declare it.
    for (let k = 0; k < RECORD_WORDS; k++) Atomics.store(record, k, recordWord(2, k));
    if (report.result === 'owner-died') subject.markConsistent();
  }
  report.recordWhole = Array.from({ length: RECORD_WORDS }, (_, k) => Atomics.load(record, k)).every((w, k, all) => w - k === all[0]);
  subject.release(role.side);
  try {
    subject.acquire(role.side, 1_000);
    subject.release(role.side);
    report.after = 'acquired';
  } catch (e) {
    report.after = errorName(e);
  }
  setPhase(Phase.done);
  return report;
}

try {
  parentPort!.postMessage({ ok: true, value: run() });
} catch (e) {
  setPhase(Phase.failed);
  parentPort!.postMessage({ ok: false, name: errorName(e), message: e instanceof Error ? e.stack ?? e.message : String(e) });
}
