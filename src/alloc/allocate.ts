/**
 * allocBucket: validate the request, check the open-bucket reserve, take an operation id, and scan
 * from the cursor (cursor fix) or from 0, wrapping once, with the configured allocator.
 */
import type { FsCore } from './fs-core.js';
import { C } from './counters.js';
import { Dev } from './device.js';
import { RacePoint } from './race-points.js';
import { validateRequest, type AllocRequest } from './request.js';
import { scanEarly, scanFreelist } from './alloc-scan.js';
import { OpenBucket } from './handles.js';
import { SLOT_WORDS, Slot } from './open-buckets.js';
import { OracleBit } from './oracle.js';

/** fs.allocBucket: see Filesystem.allocBucket. */
export function allocBucket(core: FsCore, request: AllocRequest | undefined): OpenBucket | null {
  core.live('allocBucket');
  const r = validateRequest(request, core.member);
  const ctr = core.ctr;
  const base = core.ctrBase;
  if (!core.open.reserveAllows(r.watermark, core.open.freeSlots())) {
    ctr[base + C.reserveRefusals]!++;
    return null;
  }
  // The start point comes before the operation id, so a scheduled run numbers operations in the
  // order the schedule lets them start.
  if (core.hook !== null) core.hook.at(RacePoint.allocStart, -1, 0, false);
  const p = core.attempt;
  p.dataType = r.dataTypeCode;
  p.watermark = r.watermark;
  p.writer = r.writer;
  p.opId = core.nextOpId();
  const n = core.config.buckets;
  let start = core.config.cursorFix ? Atomics.load(core.dev, Dev.cursor) : 0;
  if (start >= n) start = 0;
  core.reserveHit = false;
  const scan = core.early ? scanEarly : scanFreelist;
  let got = scan(core, start, n, p);
  if (!got && start > 0 && !core.reserveHit) got = scan(core, 0, start, p);
  if (!got) {
    if (!core.reserveHit) ctr[base + C.allocFailures]!++;
    return null;
  }
  const s = p.slot * SLOT_WORDS;
  return new OpenBucket(core, p.slot, core.open.slots[s + Slot.bucket]!, p.gen, r.dataType, r.writer, p.opId,
    (core.open.slots[s + Slot.oracle]! & OracleBit.duplicate) !== 0);
}
