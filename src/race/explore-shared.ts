/**
 * The shared memory of an exploration: how the main thread hands one schedule to the workers and
 * how they report what it did. One execution at a time; within it one worker at a time holds the
 * turn and is the only writer of everything below except `epoch` (main) and `idle` (each worker
 * once per execution). Region "sab-alloc/explore", sections:
 *
 *   control   i32 × 32
 *     [0] epoch       main bumps it to start an execution (workers wait on it); EPOCH_QUIT ends them
 *     [1] turn        the worker that may run; TURN_NONE, TURN_FINISHED (all done), TURN_STOPPED
 *                     (the execution was cut short: sleep-blocked, diverged, stalled, a violation)
 *     [2] step        scheduling decisions made so far in this execution
 *     [3] prefix      decisions [0, prefix) are forced (the schedule being replayed or extended)
 *     [4] enabled     bit w: worker w has not finished its program
 *     [5] sleep       bit w: worker w's next step is asleep (partial-order reduction)
 *     [6] status      Status below
 *     [7] idle        workers done with this execution; the last notifies main
 *     [8] waitMs      bound on every wait for the turn
 *     [9] por         1: keep sleep sets (and measure footprints)
 *     [10] workers    [11] capacity (decision slots)
 *     [12] sleepFrom  the first step whose footprint filters the sleep set (prefix − 1)
 *     [13] violation step + 1 (0 none)  [14] its worker  [15] buffer  [16] word  [17] old value
 *     [18] new value
 *   decisions  i32 × capacity   the worker chosen at decision j (forced below prefix, recorded after)
 *   enabledAt  i32 × capacity   `enabled` when decision j was made
 *   sleepAt    i32 × capacity   `sleep` when decision j was made
 *   final      i32 × capacity   1 when step j (run by decisions[j]) ended its worker's program
 *   foot       i32 × capacity × 2·FOOT_WORDS   step j's reads, then writes (explore-footprint.ts)
 *   sleepFoot  i32 × workers × 2·FOOT_WORDS    the footprint of each sleeping worker's next step
 *   messages   i32 × workers × MESSAGE_WORDS   [0] length, then UTF-16 code units: what a worker's
 *                                               program threw, if anything, this execution
 *
 * The shadow buffers (one per filesystem buffer, same sizes) hold the filesystem as it was at the
 * last scheduling point; each step's writes are the words that differ from it (explore-engine.ts).
 */
import { attachRegion, createRegion, type Region, type RegionHandle, type RegionSpec } from '../shared/region.js';
import { checkInt, ConfigError } from '../shared/validate.js';
import { FOOT_WORDS } from './explore-footprint.js';

export const X = {
  epoch: 0, turn: 1, step: 2, prefix: 3, enabled: 4, sleep: 5, status: 6, idle: 7, waitMs: 8, por: 9, workers: 10,
  capacity: 11, sleepFrom: 12, violation: 13, violWorker: 14, violBuffer: 15, violWord: 16, violOld: 17, violNew: 18,
} as const;

export const Status = { running: 0, complete: 1, sleepBlocked: 2, diverged: 3, overflow: 4, stalled: 5, violation: 6 } as const;
export const TURN_NONE = -1;
export const TURN_FINISHED = -2;
export const TURN_STOPPED = -3;
export const EPOCH_QUIT = -1;
export const MESSAGE_WORDS = 256;
export const FOOT_STRIDE = 2 * FOOT_WORDS;
export const MAX_EXPLORE_WORKERS = 8;

export interface ExploreSharedHandle {
  kind: 'sab-alloc/explore';
  workers: number;
  capacity: number;
  region: RegionHandle;
  shadow: SharedArrayBuffer[];
}

function spec(workers: number, capacity: number): RegionSpec {
  return {
    kind: 'sab-alloc/explore',
    version: 1,
    sections: [
      { name: 'control', type: 'i32', length: 32 },
      { name: 'decisions', type: 'i32', length: capacity },
      { name: 'enabledAt', type: 'i32', length: capacity },
      { name: 'sleepAt', type: 'i32', length: capacity },
      { name: 'final', type: 'i32', length: capacity },
      { name: 'foot', type: 'i32', length: capacity * FOOT_STRIDE },
      { name: 'sleepFoot', type: 'i32', length: workers * FOOT_STRIDE },
      { name: 'messages', type: 'i32', length: workers * MESSAGE_WORDS },
    ],
  };
}

export class ExploreShared {
  readonly workers: number;
  readonly capacity: number;
  readonly region: Region;
  readonly ctl: Int32Array;
  readonly decisions: Int32Array;
  readonly enabledAt: Int32Array;
  readonly sleepAt: Int32Array;
  readonly final: Int32Array;
  readonly foot: Int32Array;
  readonly sleepFoot: Int32Array;
  readonly messages: Int32Array;
  readonly shadow: Int32Array[];
  private readonly shadowBuffers: SharedArrayBuffer[];

  private constructor(region: Region, workers: number, capacity: number, shadow: SharedArrayBuffer[]) {
    this.region = region;
    this.workers = workers;
    this.capacity = capacity;
    this.ctl = region.i32('control');
    this.decisions = region.i32('decisions');
    this.enabledAt = region.i32('enabledAt');
    this.sleepAt = region.i32('sleepAt');
    this.final = region.i32('final');
    this.foot = region.i32('foot');
    this.sleepFoot = region.i32('sleepFoot');
    this.messages = region.i32('messages');
    this.shadowBuffers = shadow;
    this.shadow = shadow.map((b) => new Int32Array(b));
  }

  /** Main thread: the region, and shadows the size of each filesystem buffer. */
  static create(workers: number, capacity: number, fsBuffers: readonly SharedArrayBuffer[]): ExploreShared {
    checkInt('workers', workers, 1, MAX_EXPLORE_WORKERS);
    checkInt('capacity', capacity, 16, 1 << 20);
    const shadow = fsBuffers.map((b) => new SharedArrayBuffer(b.byteLength));
    return new ExploreShared(createRegion(spec(workers, capacity)), workers, capacity, shadow);
  }

  static attach(handle: unknown): ExploreShared {
    const h = handle as Partial<ExploreSharedHandle> | null;
    if (typeof h !== 'object' || h === null || h.kind !== 'sab-alloc/explore' || !Array.isArray(h.shadow)) {
      throw new ConfigError('handle', 'must be an exploration handle (ExploreShared.handle)');
    }
    const workers = checkInt('handle.workers', h.workers, 1, MAX_EXPLORE_WORKERS);
    const capacity = checkInt('handle.capacity', h.capacity, 16, 1 << 20);
    const region = attachRegion(h.region, { kind: 'sab-alloc/explore', version: 1, spec: spec(workers, capacity) });
    return new ExploreShared(region, workers, capacity, h.shadow);
  }

  get handle(): ExploreSharedHandle {
    return { kind: 'sab-alloc/explore', workers: this.workers, capacity: this.capacity, region: this.region.handle, shadow: this.shadowBuffers };
  }

  /** Worker w's message of this execution ('' when none). */
  message(w: number): string {
    const at = w * MESSAGE_WORDS;
    const n = Math.min(Atomics.load(this.messages, at), MESSAGE_WORDS - 1);
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(this.messages[at + 1 + i]!);
    return s;
  }

  setMessage(w: number, text: string): void {
    const at = w * MESSAGE_WORDS;
    const n = Math.min(text.length, MESSAGE_WORDS - 1);
    for (let i = 0; i < n; i++) this.messages[at + 1 + i] = text.charCodeAt(i);
    Atomics.store(this.messages, at, n);
  }
}
