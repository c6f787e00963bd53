/**
 * What each worker does in an explored schedule: `ops` operations, one after another. An operation
 * is the reported task — allocate a bucket, write `sectors` into it (the index-update commit), put
 * it — and, with the mix `cycle+free`, then free the extent it wrote (the bucket empties: with
 * discards on it waits in need_discard and the worker runs a discard step; with them off it is free
 * again at gen + 1 at once). An allocation that finds no bucket skips its write and put.
 *
 * The program is deterministic: nothing in it depends on time or chance, only on what the shared
 * state returns, so a schedule (the worker chosen at each scheduling point) fixes the execution.
 */
import type { Extent, Filesystem } from '../alloc/filesystem.js';
import { AllocError } from '../alloc/errors.js';
import type { WriteType } from '../alloc/types.js';

export const OP_MIXES = ['cycle', 'cycle+free'] as const;
export type OpMix = (typeof OP_MIXES)[number];

export interface ProgramSpec {
  ops: number;
  sectors: number;
  dataType: WriteType;
  writer: number;
  mix: OpMix;
}

/** Runs the program; `slot` learns the open slot the worker holds (the read model uses it). */
export function runProgram(fs: Filesystem, s: ProgramSpec, slot: { ownSlot: number }): void {
  for (let op = 0; op < s.ops; op++) {
    const ob = fs.allocBucket({ dataType: s.dataType, writer: s.writer });
    if (ob === null) continue;
    slot.ownSlot = ob.slot;
    let e: Extent;
    try {
      e = fs.write(ob, s.sectors);
    } catch (err) {
      // A commit that detected corruption: the data landed regardless; the verdict reads the log.
      if (!(err instanceof AllocError)) throw err;
      e = err.extent;
    }
    fs.put(ob);
    slot.ownSlot = 0;
    if (s.mix === 'cycle+free') {
      fs.free(e);
      if (fs.config.discard) fs.discard();
    }
  }
}
