/**
 * What one step of an explored schedule touches — the footprint that partial-order reduction
 * (explore.ts) decides independence by. docs/explore.md states the argument; this file is the model.
 *
 * A step is what one worker runs between two of its scheduling points. Its footprint is two sets of
 * *objects*, the reads and the writes, each a bitset of FOOT_WORDS int32 words:
 *
 *   Obj.rec + b       bucket b: its record words, its run of the sector map, its bits in the
 *                     free-space and need-discard leaf words. (Extent entries of b's extents are
 *                     read only by steps that also touch b's record — see below.)
 *   Obj.slotId + k    open slot k's identity words: valid, bucket, gen, dataType, pin, writer,
 *                     watermark, opId, member
 *   Obj.slotData + k  open slot k's sectorsFree and oracle words: written only by commits through
 *                     slot k (under the bucket's record lock) and by the publish that fills it
 *   Obj.links         everything that links the open-bucket table together: hash chain heads, every
 *                     slot's hashNext and freeNext, the slot freelist head and count, the freelist lock
 *   Obj.opSeq         the operation-id counter      Obj.cursor  the allocation cursor
 *   Obj.discardCursor where the discard step resumes    Obj.errorLog  the error log and its counts
 *
 * Two steps of different workers are independent when neither writes an object the other reads or
 * writes. **Writes are measured**, not modelled: after each step the worker that ran it compares the
 * filesystem's memory with a shadow copy (one word at a time; one worker runs at a time, so the
 * difference is exactly that step's net effect) and maps each changed word to its object with the
 * WordMap below. A word the model has no object for — a registry word, the device's rule words,
 * another member's counters or intent record, an extent entry outside the worker's own range — is a
 * *violation*: the model no longer describes the allocator, and exploration stops with a harness
 * error instead of pruning on a wrong premise. **Reads are modelled** (stepReads), from the code
 * between two race points, and every case not listed there reads everything.
 *
 * Three things are deliberately not objects:
 *  - the bitmaps' summary words: in every state between steps each summary bit is exactly "the word
 *    below is non-zero" (add sets it, remove clears it only when the word became empty), so two
 *    steps that flip different leaf bits leave the same summary in either order. A step that reads
 *    summary words (a freelist scan, a discard's search) is modelled as reading every bucket.
 *  - a member's own counters, intent record and robust read-hold words: only that member writes them.
 *  - extent entries: each worker claims entries only in its own range (attach placement), which a
 *    claim scans from its start; an entry's other words are read by commits and frees of the bucket
 *    the extent lives in, which also write that bucket's record — the dependence is carried by the
 *    record. A write to an entry outside the worker's range is a violation (see above).
 */
import type { Region } from '../shared/region.js';
import { RECORD_WORDS } from '../alloc/bucket-table.js';
import { SLOT_WORDS, Slot } from '../alloc/open-buckets.js';
import { EXTENT_WORDS } from '../alloc/extents.js';
import { INTENT_WORDS } from '../alloc/intents.js';
import { MEMBER_WORDS } from '../locks/thread-registry.js';
import { Dev } from '../alloc/device.js';
import { RacePoint } from '../alloc/race-points.js';
import { counterStride } from '../shared/counters.js';
import { MEMBER_COUNTERS } from '../alloc/counters.js';
import type { FilesystemConfig } from '../alloc/config.js';

export const FOOT_WORDS = 8;
export const MAX_EXPLORE_BUCKETS = 64;
export const MAX_EXPLORE_SLOTS = 64;
export const Obj = { rec: 0, slotId: 64, slotData: 128, links: 192, opSeq: 193, cursor: 194, discardCursor: 195, errorLog: 196 } as const;
export const OBJECT_COUNT = 197;

/** Pseudo points: where a worker's program starts and where it ends. */
export const START_POINT = -1;
export const FINISH_POINT = -2;

const HEADER_WORDS = 16;

/** How a changed word is judged (WordMap.code); values ≥ 0 are object ids. */
export const WordKind = { derived: -1, bitmapLeaf: -2, member: -3, extent: -4, forbidden: -5 } as const;

export function setBit(bits: Int32Array, off: number, id: number): void {
  bits[off + (id >>> 5)]! |= 1 << (id & 31);
}

/**
 * Whether two steps of different workers may not be swapped: a write of one meets a read or write
 * of the other. Each footprint is reads at `r…` then writes at `w…`, FOOT_WORDS words each.
 */
export function dependent(a: Int32Array, ar: number, aw: number, b: Int32Array, br: number, bw: number): boolean {
  for (let i = 0; i < FOOT_WORDS; i++) {
    const wa = a[aw + i]!;
    const wb = b[bw + i]!;
    if ((wa & (b[br + i]! | wb)) !== 0 || (wb & a[ar + i]!) !== 0) return true;
  }
  return false;
}

/**
 * Every int32 word of a filesystem region, classified: `code[buffer][word]` is an object id, or a
 * WordKind with `arg[buffer][word]` saying more (a bitmap leaf word's index, a member, an extent
 * entry's owner range). Sections it does not know are forbidden: a structure added to the allocator
 * later makes exploration with reduction stop and say so until this map learns it.
 */
export class WordMap {
  readonly code: Int32Array[];
  readonly arg: Int32Array[];
  readonly buckets: number;
  /**
   * The words a step's writes are looked for in, as [buffer, from, to) triples. A member's counters
   * and intent record and the error log's entries are left out: no worker reads another member's
   * counters or intents during a run (only recovery would, and nothing dies here), and every error
   * log append also adds to the error counts in device64, which are looked at.
   */
  readonly ranges: number[];

  constructor(region: Region, config: FilesystemConfig) {
    const n = config.buckets;
    this.buckets = n;
    this.ranges = [];
    this.code = region.buffers.map((b) => new Int32Array(b.byteLength >>> 2).fill(WordKind.forbidden));
    this.arg = region.buffers.map((b) => new Int32Array(b.byteLength >>> 2));
    const stride = counterStride(MEMBER_COUNTERS.length) * 2;
    const areaStart = (p: number): number => Math.floor(((p % config.maxThreads) * config.extents) / config.maxThreads);
    for (const s of region.layout.sections) {
      const code = this.code[s.buffer]!;
      const arg = this.arg[s.buffer]!;
      const first = s.byteOffset >>> 2;
      const words = s.type === 'f64' || s.type === 'i64' ? s.length * 2 : s.type === 'u8' ? Math.ceil(s.length / 4) : s.length;
      if (s.name !== 'counters' && s.name !== 'intents' && s.name !== 'errors' && words > 0) this.ranges.push(s.buffer, first, first + words);
      for (let i = 0; i < words; i++) {
        const at = first + i;
        let c: number = WordKind.forbidden;
        let a = 0;
        switch (s.name) {
          case 'device':
            if (i === Dev.cursor) c = Obj.cursor;
            else if (i === Dev.discardCursor) c = Obj.discardCursor;
            else if (i === Dev.freelistLock || i === Dev.slotFreeHead || i === Dev.slotFreeCount) c = Obj.links;
            break;
          case 'device64':
            c = i < 2 ? Obj.opSeq : Obj.errorLog;
            break;
          case 'registry':
            if (i % MEMBER_WORDS >= 4) { c = WordKind.member; a = Math.floor(i / MEMBER_WORDS); }
            break;
          case 'intents':
            c = WordKind.member; a = Math.floor(i / INTENT_WORDS);
            break;
          case 'counters':
            c = WordKind.member; a = Math.floor(i / stride);
            break;
          case 'records':
            c = Obj.rec + Math.floor(i / RECORD_WORDS);
            break;
          case 'freeSpace':
          case 'needDiscard':
            if (i < Math.max(1, Math.ceil(n / 32))) { c = WordKind.bitmapLeaf; a = i; } else c = WordKind.derived;
            break;
          case 'slots': {
            const k = Math.floor(i / SLOT_WORDS);
            const f = i % SLOT_WORDS;
            c = f === Slot.sectorsFree || f === Slot.oracle ? Obj.slotData + k : f === Slot.freeNext || f === Slot.hashNext ? Obj.links : Obj.slotId + k;
            break;
          }
          case 'hash':
            c = Obj.links;
            break;
          case 'errors':
            c = Obj.errorLog;
            break;
          case 'sectorMap':
            c = Obj.rec + Math.floor(i / config.bucketSectors);
            break;
          case 'extents': {
            const id = Math.floor(i / EXTENT_WORDS);
            let p = 0;
            while (p + 1 < config.maxThreads && areaStart(p + 1) <= id) p++;
            c = WordKind.extent; a = p;
            break;
          }
          default:
            c = WordKind.forbidden;
        }
        code[at] = c;
        arg[at] = a;
      }
    }
    for (const c of this.code) c.fill(WordKind.forbidden, 0, HEADER_WORDS);
  }
}

/** What the read model needs to know about the configuration. */
export interface ReadContext {
  buckets: number;
  slots: number;
  early: boolean;
  cursorFix: boolean;
  /** Key lock or the freelist allocator's locked lookup: no scheduling point before the freelist lock. */
  lockCandidate: boolean;
}

function all(bits: Int32Array, off: number, ctx: ReadContext): void {
  for (let b = 0; b < ctx.buckets; b++) setBit(bits, off, Obj.rec + b);
  for (let k = 0; k < ctx.slots; k++) {
    setBit(bits, off, Obj.slotId + k);
    setBit(bits, off, Obj.slotData + k);
  }
  for (const o of [Obj.links, Obj.opSeq, Obj.cursor, Obj.discardCursor, Obj.errorLog]) setBit(bits, off, o);
}

function recRange(bits: Int32Array, off: number, lo: number, hi: number): void {
  for (let b = lo; b <= hi; b++) setBit(bits, off, Obj.rec + b);
}

/** isOpen(b): a chain head and the bucket and hashNext words of the slots on the chain. */
function openTable(bits: Int32Array, off: number, ctx: ReadContext): void {
  setBit(bits, off, Obj.links);
  for (let k = 0; k < ctx.slots; k++) setBit(bits, off, Obj.slotId + k);
}

function ownSlot(bits: Int32Array, off: number, k: number, ctx: ReadContext): void {
  if (k > 0 && k < ctx.slots) {
    setBit(bits, off, Obj.slotId + k);
    setBit(bits, off, Obj.slotData + k);
  } else {
    for (let s = 0; s < ctx.slots; s++) {
      setBit(bits, off, Obj.slotId + s);
      setBit(bits, off, Obj.slotData + s);
    }
  }
}

const REFUSALS: readonly number[] = [RacePoint.foundOpen, RacePoint.revalidateFailed, RacePoint.lockedRereadRefused];

/**
 * Fills `bits[off … off + FOOT_WORDS)` with what a step of the explore program (explore-program.ts)
 * may read when it runs from its worker's point `p` (bucket `pb`) to point `q` (bucket `qb`). `slot`
 * is the worker's open slot (0 when it holds none). Each case below names the code it covers; a
 * transition not listed reads everything, which is always sound.
 */
export function stepReads(bits: Int32Array, off: number, p: number, pb: number, q: number, qb: number, slot: number, ctx: ReadContext): void {
  bits.fill(0, off, off + FOOT_WORDS);
  const P = RacePoint;
  const inDevice = (b: number): boolean => b >= 0 && b < ctx.buckets;
  // Program start or the end of a put → the next allocation's start: validate the request, then
  // the reserve check reads the slot free count.
  if (q === P.allocStart && (p === START_POINT || p === P.afterPut)) {
    setBit(bits, off, Obj.links);
    return;
  }
  // A put, a commit, a read: the program ends; nothing shared is read after the last point.
  if (q === FINISH_POINT && p === P.afterPut) return;
  // The scan: from allocation start, or on after a refused candidate, to the next candidate that
  // reads free and not open. Takes an operation id (allocation start only) and reads the cursor;
  // reads each record it passes (and, freelist, the free-space bitmap), and the open table.
  if (q === P.candidateRead && inDevice(qb) && (p === P.allocStart || (REFUSALS.includes(p) && inDevice(pb)))) {
    openTable(bits, off, ctx);
    if (p === P.allocStart) setBit(bits, off, Obj.opSeq);
    if (ctx.early && !ctx.cursorFix) {
      // From bucket 0, one pass, in order: [0, qb] from the start, (pb, qb] after a refusal.
      const lo = p === P.allocStart ? 0 : pb + 1;
      if (lo <= qb) recRange(bits, off, lo, qb);
      else recRange(bits, off, 0, ctx.buckets - 1);
    } else {
      setBit(bits, off, Obj.cursor);
      recRange(bits, off, 0, ctx.buckets - 1);
    }
    return;
  }
  // Unlocked candidates: between the candidate read and the point before the freelist lock the
  // scan only hands the candidate on.
  if (!ctx.lockCandidate && p === P.candidateRead && q === P.beforeFreelistLock && pb === qb) return;
  // The publish attempt under the freelist lock: reserve (free count), is-open walk, the seqlock
  // re-check or the oracle (the record's seq and state), the slot freelist and a chain head; and,
  // locked candidates, the record's read lock and state before that.
  const publishFrom = ctx.lockCandidate ? P.candidateRead : P.beforeFreelistLock;
  if (p === publishFrom && pb === qb && inDevice(qb)
    && (q === P.afterPublish || q === P.foundOpen || q === P.revalidateFailed || q === P.lockedRereadRefused)) {
    openTable(bits, off, ctx);
    setBit(bits, off, Obj.rec + qb);
    return;
  }
  // The allocation returns its handle (the slot's bucket), write checks the handle (valid, opId).
  if (p === P.afterPublish && q === P.beforeCommit && pb === qb) {
    ownSlot(bits, off, slot, ctx);
    return;
  }
  // The commit: the bucket's record, sector map and extents, the slot's handle words, sectorsFree
  // and oracle, the claim in the worker's own extent range, and the error log when it appends.
  if (p === P.beforeCommit && q === P.afterCommit && pb === qb && inDevice(qb)) {
    ownSlot(bits, off, slot, ctx);
    setBit(bits, off, Obj.rec + qb);
    setBit(bits, off, Obj.errorLog);
    return;
  }
  if (p === P.afterCommit && q === P.commitFailed && pb === qb) return;
  // Back in the program, then put checks its handle (valid, opId).
  if ((p === P.afterCommit || p === P.commitFailed) && q === P.beforePut && pb === qb) {
    ownSlot(bits, off, slot, ctx);
    return;
  }
  // The put under the freelist lock: the pin, the chain walk to unlink it, the slot freelist, the
  // oracle word for the tally.
  if (p === P.beforePut && q === P.afterPut && pb === qb) {
    setBit(bits, off, Obj.links);
    ownSlot(bits, off, slot, ctx);
    return;
  }
  // free(extent) checks its handle in the worker's own memory before its first point.
  if (p === P.afterPut && q === P.beforeFree) return;
  all(bits, off, ctx);
}
