/**
 * Regions: layout (alignment, multi-buffer), every way attach refuses a handle, and a handle posted
 * to a real worker thread attaching to the same memory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HEADER_BYTES, REGION_MAGIC, RegionError, attachRegion, createRegion, fnv1a, layoutRegion,
  type RegionHandle, type RegionSpec,
} from '../src/shared/region.js';
import { ConfigError } from '../src/shared/validate.js';
import { WorkerPool } from '../src/shared/worker-pool.js';
import type { RegionProbeApi } from '../src/torture/region-probe-worker.js';

const SPEC: RegionSpec = {
  kind: 'test-region',
  version: 3,
  sections: [
    { name: 'lock', type: 'i32', length: 1 },
    { name: 'bytes', type: 'u8', length: 3 },
    { name: 'values', type: 'f64', length: 5 },
    { name: 'counts', type: 'u32', length: 20 },
    { name: 'empty', type: 'i32', length: 0 },
  ],
};
const EXPECT = { kind: 'test-region', version: 3 };

/** Same hash the module computes, restated to build well-formed handles with chosen layouts. */
function hashOf(kind: string, version: number, sections: RegionHandle['layout']['sections']): number {
  const parts = sections.map((s) => `${s.name}:${s.type}:${s.length}:${s.buffer}:${s.byteOffset}`);
  return fnv1a(`${kind}@${version}|${parts.join('|')}`);
}

/** A buffer with a valid header for `layout` but `bytes` long. */
function bufferWithHeader(layout: RegionHandle['layout'], bytes: number, index = 0): SharedArrayBuffer {
  const buf = new SharedArrayBuffer(bytes);
  const h = new Int32Array(buf, 0, 16);
  h.set([REGION_MAGIC, fnv1a(layout.kind), layout.version, layout.hash, index, layout.bufferBytes.length, bytes]);
  return buf;
}

function attachError(handle: unknown, expect = EXPECT): string {
  try {
    attachRegion(handle, expect);
  } catch (e) {
    if (!(e instanceof RegionError)) throw e;
    return e.message;
  }
  throw new Error('attach unexpectedly succeeded');
}

describe('layout', () => {
  it('starts every section on a 64-byte boundary after the 64-byte header, without overlaps', () => {
    const layout = layoutRegion(SPEC);
    let end = HEADER_BYTES;
    for (const s of layout.sections) {
      expect(s.byteOffset % 64).toBe(0);
      expect(s.byteOffset).toBeGreaterThanOrEqual(end);
      const elem = { i32: 4, u32: 4, u8: 1, f64: 8, i64: 8 }[s.type];
      end = s.byteOffset + s.length * elem;
    }
    expect(layout.bufferBytes).toHaveLength(1);
    expect(layout.bufferBytes[0]! % 64).toBe(0);
    expect(layout.bufferBytes[0]).toBeGreaterThanOrEqual(end);
  });

  it('is a pure function of the spec, and its hash changes with any section detail', () => {
    expect(layoutRegion(SPEC)).toEqual(layoutRegion(structuredClone(SPEC)));
    const changed = structuredClone(SPEC);
    changed.sections[3]!.length = 21;
    expect(layoutRegion(changed).hash).not.toBe(layoutRegion(SPEC).hash);
    expect(layoutRegion({ ...SPEC, version: 4 }).hash).not.toBe(layoutRegion(SPEC).hash);
  });

  it('spreads sections over several buffers when asked, each with its own header', () => {
    const spec: RegionSpec = {
      kind: 'multi',
      version: 1,
      sections: [
        { name: 'a', type: 'i32', length: 10 },
        { name: 'big', type: 'f64', length: 1000, buffer: 2 },
        { name: 'b', type: 'u8', length: 7, buffer: 1 },
        { name: 'c', type: 'i32', length: 3 },
      ],
    };
    const r = createRegion(spec);
    expect(r.buffers).toHaveLength(3);
    const at = Object.fromEntries(r.layout.sections.map((s) => [s.name, s]));
    expect(at.a!.buffer).toBe(0);
    expect(at.c!.buffer).toBe(0);
    expect(at.b!.buffer).toBe(1);
    expect(at.big!.buffer).toBe(2);
    expect(at.b!.byteOffset).toBe(64);
    expect(at.big!.byteOffset).toBe(64);
    expect(at.c!.byteOffset).toBe(128);
    expect(r.buffers[2]!.byteLength).toBe(64 + 8000);
    r.buffers.forEach((buf, i) => {
      const h = new Int32Array(buf, 0, 16);
      expect(h[0]).toBe(REGION_MAGIC);
      expect(h[4]).toBe(i);
      expect(h[5]).toBe(3);
      expect(h[6]).toBe(buf.byteLength);
    });
    r.f64('big')[999] = 1.5;
    r.u8('b')[6] = 200;
    r.i32('c')[2] = -4;
    const again = attachRegion(structuredClone(r.handle), { kind: 'multi', version: 1, spec });
    expect(again.f64('big')[999]).toBe(1.5);
    expect(again.u8('b')[6]).toBe(200);
    expect(again.i32('c')[2]).toBe(-4);
    expect(again.byteLength).toBe(r.byteLength);
  });

  it('rejects bad specs naming the parameter', () => {
    expect(() => layoutRegion({ kind: '', version: 1, sections: [] })).toThrow(/^kind: must be a non-empty string/);
    expect(() => layoutRegion({ kind: 'k', version: 0, sections: [] })).toThrow(/^version: must be an integer in \[1, 2147483647\], got 0/);
    expect(() => layoutRegion({ kind: 'k', version: 1, sections: [{ name: 'a', type: 'i32', length: 1 }, { name: 'a', type: 'u8', length: 1 }] }))
      .toThrow('sections.a: is defined twice');
    expect(() => layoutRegion({ kind: 'k', version: 1, sections: [{ name: 'a', type: 'i16' as never, length: 1 }] }))
      .toThrow(/sections.a.type: must be one of i32, u32, u8, f64, i64, got i16/);
    expect(() => layoutRegion({ kind: 'k', version: 1, sections: [{ name: 'a', type: 'toString' as never, length: 1 }] }))
      .toThrow(/sections.a.type: must be one of .*, got toString/);
    expect(() => layoutRegion({ kind: 'k', version: 1, sections: [{ name: 'a', type: 'i32', length: -1 }] }))
      .toThrow(ConfigError);
    expect(() => layoutRegion({ kind: 'k', version: 1, sections: [{ name: 'a', type: 'i32', length: 1, buffer: 64 }] }))
      .toThrow(/sections.a.buffer: must be an integer in \[0, 63\], got 64/);
  });
});

describe('views', () => {
  it('are zeroed, typed, and shared by every attach of the same handle', () => {
    const r = createRegion(SPEC);
    expect(Array.from(r.u32('counts'))).toEqual(new Array(20).fill(0));
    const other = attachRegion(r.handle, { ...EXPECT, spec: SPEC });
    Atomics.store(r.i32('lock'), 0, 42);
    expect(Atomics.load(other.i32('lock'), 0)).toBe(42);
    expect(other.i32('empty')).toHaveLength(0);
  });

  it('refuse unknown sections and the wrong element type', () => {
    const r = createRegion(SPEC);
    expect(() => r.i32('nope')).toThrow('region "test-region" has no section "nope"');
    expect(() => r.i32('values')).toThrow('section "values" of region "test-region" is f64, not i32');
  });
});

describe('attach refuses', () => {
  const r = createRegion(SPEC);
  const handle = r.handle;

  it('a handle that is not an object, or lacks layout or buffers', () => {
    expect(attachError(null)).toMatch(/test-region handle: expected \{ layout, buffers \}, got null/);
    expect(attachError(42)).toMatch(/got 42/);
    expect(attachError('handle')).toMatch(/expected \{ layout, buffers \}/);
    expect(attachError({ layout: handle.layout })).toMatch(/as returned by .handle/);
    expect(attachError({ buffers: handle.buffers, layout: null })).toMatch(/as returned by .handle/);
  });

  it('a non-shared ArrayBuffer, or something that is not a buffer', () => {
    expect(attachError({ ...handle, buffers: [new ArrayBuffer(1024)] })).toMatch(/buffers\[0\] is a non-shared ArrayBuffer; regions live in SharedArrayBuffers/);
    expect(attachError({ ...handle, buffers: [new Uint8Array(8)] })).toMatch(/buffers\[0\] is not a SharedArrayBuffer/);
  });

  it('a buffer too small to hold a header', () => {
    expect(attachError({ ...handle, buffers: [new SharedArrayBuffer(32)] })).toMatch(/buffers\[0\] is too small \(32 bytes\) to hold a region header/);
  });

  it('a foreign buffer (bad magic)', () => {
    const foreign = new SharedArrayBuffer(handle.buffers[0]!.byteLength);
    new Int32Array(foreign)[0] = 0x12345678;
    expect(attachError({ ...handle, buffers: [foreign] })).toMatch(/buffers\[0\] is a foreign buffer \(bad magic 0x12345678, expected 0x53414241\)/);
    expect(attachError({ ...handle, buffers: [new SharedArrayBuffer(4096)] })).toMatch(/bad magic 0x0/);
  });

  it('another kind of region', () => {
    const other = createRegion({ ...SPEC, kind: 'other-kind' });
    expect(attachError(other.handle)).toMatch(/buffers\[0\] holds a different kind of region, not "test-region"/);
  });

  it('another layout version', () => {
    const older = createRegion({ ...SPEC, version: 2 });
    expect(attachError(older.handle)).toMatch(/buffers\[0\] has layout version 2, this build reads version 3/);
  });

  it('buffers from another region of the same kind', () => {
    const other = createRegion({ ...SPEC, sections: [{ name: 'x', type: 'i32', length: 4 }] });
    expect(attachError({ layout: handle.layout, buffers: other.buffers })).toMatch(/layout hash does not match the handle's layout/);
  });

  it('a layout altered after it was hashed', () => {
    const altered = structuredClone(handle);
    altered.layout.sections[3]!.length = 10_000;
    expect(attachError(altered)).toMatch(/layout hash does not match its sections \(the layout was altered\)/);
  });

  it('a layout that differs from what this build lays out for the spec (stale handle)', () => {
    const spec2 = structuredClone(SPEC);
    spec2.sections[0]!.length = 2;
    expect(attachError(handle, { ...EXPECT, spec: spec2 } as never)).toMatch(/layout differs from what this build lays out/);
  });

  it('buffers out of order or missing', () => {
    const multi = createRegion({ kind: 'test-region', version: 3, sections: [{ name: 'a', type: 'i32', length: 1 }, { name: 'b', type: 'i32', length: 1, buffer: 1 }] });
    expect(attachError({ layout: multi.layout, buffers: [multi.buffers[1], multi.buffers[0]] })).toMatch(/buffers\[0\] is buffer 1 of 2; the handle's buffers are out of order or incomplete/);
    expect(attachError({ layout: multi.layout, buffers: [multi.buffers[0]] })).toMatch(/buffers\[0\] is buffer 0 of 2/);
  });

  it('a buffer smaller than its layout (truncated)', () => {
    const layout = layoutRegion({ kind: 'test-region', version: 3, sections: [{ name: 'a', type: 'i32', length: 100 }] });
    const short = bufferWithHeader(layout, 128);
    expect(attachError({ layout, buffers: [short] })).toMatch(/buffers\[0\] is 128 bytes, its header says 128 and the layout 512/);
  });

  it('a copy of a buffer made larger, or one whose header disagrees with its size', () => {
    const bigger = new SharedArrayBuffer(handle.buffers[0]!.byteLength + 64);
    new Uint8Array(bigger).set(new Uint8Array(handle.buffers[0]!));
    expect(attachError({ ...handle, buffers: [bigger] })).toMatch(/buffers\[0\] is \d+ bytes, its header says \d+ .*a resized copy is not the shared memory/);
  });

  it('buffers of two regions of the same layout mixed (their identities differ)', () => {
    const spec: RegionSpec = { kind: 'test-region', version: 3, sections: [{ name: 'a', type: 'i32', length: 4 }, { name: 'b', type: 'i32', length: 4, buffer: 1 }] };
    const one = createRegion(spec);
    const two = createRegion(spec);
    expect(one.identity).not.toBe(two.identity);
    expect(one.identity).toBeGreaterThan(0);
    expect(one.identity).toBeLessThan(2 ** 48);
    expect(attachError({ layout: one.layout, buffers: [one.buffers[0], two.buffers[1]] })).toMatch(/buffers\[1\] belongs to another region than buffers\[0\].*buffers of two regions mixed/);
    expect(attachRegion(one.handle, EXPECT).identity).toBe(one.identity);
  });

  it('a header whose reserved words are not zero (every header word is checked)', () => {
    const copy = createRegion(SPEC);
    new Int32Array(copy.buffers[0]!, 0, 16)[12] = 7;
    expect(attachError(copy.handle)).toMatch(/header word 12 is 7, reserved words must be zero/);
  });

  it('a misaligned section, even in a layout whose hash is consistent', () => {
    const sections = [{ name: 'v', type: 'f64' as const, length: 2, buffer: 0, byteOffset: 68 }];
    const layout = { kind: 'test-region', version: 3, hash: hashOf('test-region', 3, sections), bufferBytes: [128], sections };
    expect(attachError({ layout, buffers: [bufferWithHeader(layout, 128)] })).toMatch(/section "v" is misaligned \(byte offset 68 for f64 elements\)/);
    const inHeader = [{ name: 'h', type: 'i32' as const, length: 1, buffer: 0, byteOffset: 8 }];
    const layout2 = { kind: 'test-region', version: 3, hash: hashOf('test-region', 3, inHeader), bufferBytes: [128], sections: inHeader };
    expect(attachError({ layout: layout2, buffers: [bufferWithHeader(layout2, 128)] })).toMatch(/section "h" is misaligned/);
  });

  it('a section in a buffer the handle does not have', () => {
    const sections = [{ name: 'far', type: 'i32' as const, length: 1, buffer: 1, byteOffset: 64 }];
    const layout = { kind: 'test-region', version: 3, hash: hashOf('test-region', 3, sections), bufferBytes: [128], sections };
    const buf = bufferWithHeader({ ...layout, bufferBytes: [128] }, 128);
    expect(attachError({ layout, buffers: [buf] })).toMatch(/section "far" refers to missing buffer 1/);
  });
});

describe('in a real worker', () => {
  let pool: WorkerPool<RegionProbeApi> | undefined;
  const region = createRegion(SPEC);
  const counts = region.u32('counts');

  beforeAll(async () => {
    counts.set(Array.from({ length: 20 }, (_, i) => i));
    Atomics.store(region.i32('lock'), 0, 5);
    pool = await WorkerPool.start<RegionProbeApi>({
      // Workers run compiled JS: `npm test` builds dist/ first.
      url: new URL('../dist/src/torture/region-probe-worker.js', import.meta.url),
      count: 1,
      workerData: () => ({ handle: region.handle }),
    });
  });

  afterAll(async () => {
    await pool?.terminate();
  });

  it('attaches a handle passed as workerData: same memory both ways', async () => {
    const r = await pool!.call(0, (w) => w.probeWorkerData({ ...EXPECT, spec: SPEC }, 'lock', 77), 10_000);
    expect(r).toEqual({ ok: true, sum: 5, error: null });
    expect(Atomics.load(region.i32('lock'), 0)).toBe(77);
  });

  it('attaches a handle posted in a call (structured clone keeps the buffers shared)', async () => {
    const other = createRegion({ kind: 'posted', version: 1, sections: [{ name: 'w', type: 'i32', length: 8 }] });
    other.i32('w').set([1, 2, 3, 4, 5, 6, 7, 8]);
    const r = await pool!.call(0, (w) => w.probe(other.handle, { kind: 'posted', version: 1 }, 'w', -1), 10_000);
    expect(r).toEqual({ ok: true, sum: 36, error: null });
    expect(Atomics.load(other.i32('w'), 7)).toBe(-1);
  });

  it('reports an attach error from the worker: a non-shared buffer arrives as a copy and is refused', async () => {
    const copy = { layout: region.layout, buffers: [new ArrayBuffer(region.buffers[0]!.byteLength)] };
    const r = await pool!.call(0, (w) => w.probe(copy, EXPECT, 'lock', 1), 10_000);
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/RegionError: test-region handle: buffers\[0\] is a non-shared ArrayBuffer/);
  });
});
