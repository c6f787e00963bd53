/**
 * Shared-memory regions: named, typed sections laid out in one or more SharedArrayBuffers.
 *
 * `createRegion` lays out and zeroes memory once; `attachRegion` re-creates identical views in any
 * thread from the plain handle (the buffers plus the layout), which structured clone can post to a
 * worker. Each buffer starts with a header that attach validates, so a foreign, stale or truncated
 * buffer is refused with a message naming what is wrong, instead of being read as garbage.
 *
 * Buffer layout (every buffer of a region):
 *
 *   byte 0   header, 16 int32 words (64 bytes, one cache line):
 *              [0] MAGIC           0x53414241 ("SABA")
 *              [1] kind hash       FNV-1a of the region kind ("filesystem", "race", ...)
 *              [2] layout version  bumped whenever a kind's layout changes meaning
 *              [3] layout hash     FNV-1a over kind, version and every section (name, type, length,
 *                                  buffer, offset): two builds agree on the memory iff this agrees
 *              [4] buffer index    which of the region's buffers this is
 *              [5] buffer count
 *              [6] byte length     as laid out; attach requires the buffer to be exactly this long
 *              [7] identity, low   a random 48-bit identity drawn at create, the same in every
 *              [8] identity, high  buffer of one region: attach refuses buffers of two regions mixed
 *                                  (low 32 bits in [7], high 16 bits in [8])
 *              [9..15] reserved, zero
 *   byte 64  sections assigned to this buffer, each starting on a 64-byte boundary so that two
 *            sections never share a cache line (no false sharing between, say, a lock word and the
 *            data it guards in another section).
 */
import { ConfigError, checkInt } from './validate.js';

/** First word of every region buffer: "SABA". */
export const REGION_MAGIC = 0x53414241;
/** Bytes of the header at the start of every region buffer (one cache line). */
export const HEADER_BYTES = 64;
const HEADER_WORDS = HEADER_BYTES / 4;
const SECTION_ALIGN = 64;

/** Element type of a section, and so of its typed-array view. */
export type SectionType = 'i32' | 'u32' | 'u8' | 'f64' | 'i64';
/** A Map, not an object: a section type named "toString" must not find a prototype member. */
const ELEMENT_BYTES: ReadonlyMap<string, number> = new Map([['i32', 4], ['u32', 4], ['u8', 1], ['f64', 8], ['i64', 8]]);

/** One named section a region should have. */
export interface SectionSpec {
  /** Unique within the region; `region.i32(name)` etc. return its view. */
  name: string;
  type: SectionType;
  /** Number of elements (not bytes). Zero is allowed and gives an empty view. */
  length: number;
  /** Which buffer holds it; default 0. Use separate buffers for sections too large to share one. */
  buffer?: number;
}

/** What a region holds: its kind, the version of its layout, and its sections in order. */
export interface RegionSpec {
  /** Names what the memory is ("filesystem", "race", …): attach refuses another kind. */
  kind: string;
  /** Bump it whenever the kind's layout changes meaning: attach refuses another version. */
  version: number;
  sections: SectionSpec[];
}

/** Where a section was placed: its buffer and byte offset (64-byte aligned). */
export interface SectionLayout {
  name: string;
  type: SectionType;
  length: number;
  buffer: number;
  byteOffset: number;
}

/** A laid-out region: every section placed, the size of each buffer, and a fingerprint of it all. */
export interface RegionLayout {
  kind: string;
  version: number;
  /** FNV-1a over kind, version and every section's placement: two builds agree on the memory iff this agrees. */
  hash: number;
  /** Size of each buffer, header included. */
  bufferBytes: number[];
  sections: SectionLayout[];
}

/** Plain, structured-cloneable: post it to a worker and call `attachRegion` there. */
export interface RegionHandle {
  layout: RegionLayout;
  buffers: SharedArrayBuffer[];
}

type View = Int32Array | Uint32Array | Uint8Array | Float64Array | BigInt64Array;

/** A fresh random identity in [1, 2^48): 48 bits stay an exact integer in a JS number. */
function randomIdentity(): number {
  const w = new Uint32Array(2);
  for (;;) {
    crypto.getRandomValues(w);
    const id = (w[1]! & 0xffff) * 2 ** 32 + w[0]!;
    if (id !== 0) return id;
  }
}

function headerIdentity(hdr: Int32Array): number {
  return (Atomics.load(hdr, 8) & 0xffff) * 2 ** 32 + (Atomics.load(hdr, 7) >>> 0);
}

/** A handle that does not describe a valid region of the expected kind, or a wrong section request. */
export class RegionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegionError';
  }
}

/** FNV-1a, 32 bit. Stable across builds, which is all a layout fingerprint needs. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

function layoutHash(kind: string, version: number, sections: readonly SectionLayout[]): number {
  const parts = sections.map((s) => `${s.name}:${s.type}:${s.length}:${s.buffer}:${s.byteOffset}`);
  return fnv1a(`${kind}@${version}|${parts.join('|')}`);
}

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/** Computes where every section goes. Pure: the same spec always gives the same layout. */
export function layoutRegion(spec: RegionSpec): RegionLayout {
  if (typeof spec.kind !== 'string' || spec.kind.length === 0) throw new ConfigError('kind', 'must be a non-empty string');
  checkInt('version', spec.version, 1, 0x7fffffff);
  const names = new Set<string>();
  const cursor: number[] = [];
  const sections: SectionLayout[] = [];
  for (const s of spec.sections) {
    if (names.has(s.name)) throw new ConfigError(`sections.${s.name}`, 'is defined twice');
    names.add(s.name);
    const elem = ELEMENT_BYTES.get(s.type);
    if (elem === undefined) throw new ConfigError(`sections.${s.name}.type`, `must be one of ${[...ELEMENT_BYTES.keys()].join(', ')}, got ${String(s.type)}`);
    checkInt(`sections.${s.name}.length`, s.length, 0, 2 ** 31 - 1);
    const buffer = checkInt(`sections.${s.name}.buffer`, s.buffer ?? 0, 0, 63);
    while (cursor.length <= buffer) cursor.push(HEADER_BYTES);
    const byteOffset = alignUp(cursor[buffer]!, SECTION_ALIGN);
    cursor[buffer] = byteOffset + s.length * elem;
    sections.push({ name: s.name, type: s.type, length: s.length, buffer, byteOffset });
  }
  if (cursor.length === 0) cursor.push(HEADER_BYTES);
  const bufferBytes = cursor.map((end) => alignUp(end, SECTION_ALIGN));
  return { kind: spec.kind, version: spec.version, hash: layoutHash(spec.kind, spec.version, sections), bufferBytes, sections };
}

/** Typed views over the sections of one region; built by createRegion or attachRegion. */
export class Region {
  readonly layout: RegionLayout;
  /** The shared buffers, header first in each. */
  readonly buffers: SharedArrayBuffer[];
  private readonly views = new Map<string, View>();

  /** Use createRegion / attachRegion; this constructor trusts its arguments. */
  constructor(handle: RegionHandle) {
    this.layout = handle.layout;
    this.buffers = handle.buffers;
    for (const s of handle.layout.sections) {
      const buf = handle.buffers[s.buffer]!;
      const view =
        s.type === 'i32' ? new Int32Array(buf, s.byteOffset, s.length)
          : s.type === 'u32' ? new Uint32Array(buf, s.byteOffset, s.length)
            : s.type === 'u8' ? new Uint8Array(buf, s.byteOffset, s.length)
              : s.type === 'i64' ? new BigInt64Array(buf, s.byteOffset, s.length)
                : new Float64Array(buf, s.byteOffset, s.length);
      this.views.set(s.name, view);
    }
  }

  /** Plain and structured-cloneable: post it to a worker and call attachRegion there. */
  get handle(): RegionHandle {
    return { layout: this.layout, buffers: this.buffers };
  }

  /**
   * The region's random identity, drawn at create and written into every buffer's header: two
   * regions of identical layout still differ in it, so a handle or an object of one is refused by
   * the other.
   */
  get identity(): number {
    return headerIdentity(new Int32Array(this.buffers[0]!, 0, HEADER_WORDS));
  }

  private view(name: string, type: SectionType): View {
    const v = this.views.get(name);
    if (v === undefined) throw new RegionError(`region "${this.layout.kind}" has no section "${name}"`);
    const s = this.layout.sections.find((x) => x.name === name)!;
    if (s.type !== type) throw new RegionError(`section "${name}" of region "${this.layout.kind}" is ${s.type}, not ${type}`);
    return v;
  }

  /** The view of an i32 section; throws RegionError for an unknown name or another type. */
  i32(name: string): Int32Array { return this.view(name, 'i32') as Int32Array; }
  /** The view of a u32 section. */
  u32(name: string): Uint32Array { return this.view(name, 'u32') as Uint32Array; }
  /** The view of a u8 section. */
  u8(name: string): Uint8Array { return this.view(name, 'u8') as Uint8Array; }
  /** The view of an f64 section. */
  f64(name: string): Float64Array { return this.view(name, 'f64') as Float64Array; }
  /** The view of an i64 (BigInt64Array) section. */
  i64(name: string): BigInt64Array { return this.view(name, 'i64') as BigInt64Array; }

  /** Total bytes across every buffer, header included. */
  get byteLength(): number {
    return this.buffers.reduce((n, b) => n + b.byteLength, 0);
  }
}

/** Lays out a region, allocates its buffers (zero-filled by the runtime) and writes the headers. */
export function createRegion(spec: RegionSpec): Region {
  const layout = layoutRegion(spec);
  const identity = randomIdentity();
  const buffers = layout.bufferBytes.map((bytes, i) => {
    let buf: SharedArrayBuffer;
    try {
      buf = new SharedArrayBuffer(bytes);
    } catch (e) {
      throw new ConfigError(`${spec.kind} size`, `cannot allocate buffer ${i} of ${bytes} bytes: ${(e as Error).message}`);
    }
    const h = new Int32Array(buf, 0, HEADER_WORDS);
    h[0] = REGION_MAGIC;
    h[1] = fnv1a(layout.kind);
    h[2] = layout.version;
    h[3] = layout.hash;
    h[4] = i;
    h[5] = layout.bufferBytes.length;
    h[6] = bytes;
    h[7] = identity % 2 ** 32;
    h[8] = Math.floor(identity / 2 ** 32);
    return buf;
  });
  return new Region({ layout, buffers });
}

/** What attachRegion checks a handle against. */
export interface AttachExpectation {
  kind: string;
  version: number;
  /** When given, the handle's layout must equal the one this spec produces in this build. */
  spec?: RegionSpec;
}

/**
 * Validates a handle and returns views over the same memory. Every way a handle can be wrong gets
 * its own message: not a handle, non-shared ArrayBuffer, bad magic (foreign buffer), other kind,
 * other layout version, layout hash mismatch, buffers of two regions mixed, a buffer of the wrong
 * size (a copy made larger or smaller), reserved header words in use, misaligned section. Every
 * header word is checked, so nothing a header holds goes unvalidated.
 */
export function attachRegion(handle: unknown, expect: AttachExpectation): Region {
  const what = `${expect.kind} handle`;
  if (typeof handle !== 'object' || handle === null) throw new RegionError(`${what}: expected { layout, buffers }, got ${String(handle)}`);
  const h = handle as Partial<RegionHandle>;
  if (!Array.isArray(h.buffers) || typeof h.layout !== 'object' || h.layout === null) {
    throw new RegionError(`${what}: expected { layout, buffers } as returned by .handle`);
  }
  const layout = h.layout;
  const buffers = h.buffers;
  let identity = -1;
  buffers.forEach((buf, i) => {
    if (buf instanceof ArrayBuffer) throw new RegionError(`${what}: buffers[${i}] is a non-shared ArrayBuffer; regions live in SharedArrayBuffers`);
    if (!(buf instanceof SharedArrayBuffer)) throw new RegionError(`${what}: buffers[${i}] is not a SharedArrayBuffer`);
    if (buf.byteLength < HEADER_BYTES) throw new RegionError(`${what}: buffers[${i}] is too small (${buf.byteLength} bytes) to hold a region header`);
    const hdr = new Int32Array(buf, 0, HEADER_WORDS);
    const magic = Atomics.load(hdr, 0);
    if (magic !== REGION_MAGIC) {
      throw new RegionError(`${what}: buffers[${i}] is a foreign buffer (bad magic 0x${(magic >>> 0).toString(16)}, expected 0x${REGION_MAGIC.toString(16)})`);
    }
    if (Atomics.load(hdr, 1) !== fnv1a(expect.kind)) {
      throw new RegionError(`${what}: buffers[${i}] holds a different kind of region, not "${expect.kind}"`);
    }
    const version = Atomics.load(hdr, 2);
    if (version !== expect.version) {
      throw new RegionError(`${what}: buffers[${i}] has layout version ${version}, this build reads version ${expect.version}`);
    }
    if (Atomics.load(hdr, 3) !== layout.hash) {
      throw new RegionError(`${what}: buffers[${i}] layout hash does not match the handle's layout (buffers from another region?)`);
    }
    if (Atomics.load(hdr, 4) !== i || Atomics.load(hdr, 5) !== buffers.length) {
      throw new RegionError(`${what}: buffers[${i}] is buffer ${Atomics.load(hdr, 4)} of ${Atomics.load(hdr, 5)}; the handle's buffers are out of order or incomplete`);
    }
    const laidOut = Atomics.load(hdr, 6);
    if (buf.byteLength !== laidOut || (Array.isArray(layout.bufferBytes) && laidOut !== layout.bufferBytes[i])) {
      throw new RegionError(`${what}: buffers[${i}] is ${buf.byteLength} bytes, its header says ${laidOut} and the layout ${Array.isArray(layout.bufferBytes) ? String(layout.bufferBytes[i]) : '?'}: a resized copy is not the shared memory`);
    }
    const id = headerIdentity(hdr);
    if (i === 0) identity = id;
    else if (id !== identity) {
      throw new RegionError(`${what}: buffers[${i}] belongs to another region than buffers[0] (identity ${id.toString(16)} vs ${identity.toString(16)}): buffers of two regions mixed`);
    }
    for (let w = 9; w < HEADER_WORDS; w++) {
      if (Atomics.load(hdr, w) !== 0) throw new RegionError(`${what}: buffers[${i}] header word ${w} is ${Atomics.load(hdr, w)}, reserved words must be zero (written by a newer build?)`);
    }
  });
  if (layout.kind !== expect.kind || layout.version !== expect.version) {
    throw new RegionError(`${what}: layout is ${layout.kind}@${layout.version}, expected ${expect.kind}@${expect.version}`);
  }
  if (!Array.isArray(layout.sections) || !Array.isArray(layout.bufferBytes) || layoutHash(layout.kind, layout.version, layout.sections) !== layout.hash) {
    throw new RegionError(`${what}: layout hash does not match its sections (the layout was altered)`);
  }
  if (buffers.length !== layout.bufferBytes.length) {
    throw new RegionError(`${what}: has ${buffers.length} buffers, its layout has ${layout.bufferBytes.length}`);
  }
  if (expect.spec !== undefined && layoutRegion(expect.spec).hash !== layout.hash) {
    throw new RegionError(`${what}: layout differs from what this build lays out for the same configuration (stale handle from another version?)`);
  }
  for (const s of layout.sections) {
    const elem = ELEMENT_BYTES.get(s.type);
    if (elem === undefined) throw new RegionError(`${what}: section "${s.name}" has unknown type ${String(s.type)}`);
    if (s.byteOffset % elem !== 0 || s.byteOffset < HEADER_BYTES) {
      throw new RegionError(`${what}: section "${s.name}" is misaligned (byte offset ${s.byteOffset} for ${s.type} elements)`);
    }
    const buf = buffers[s.buffer];
    if (buf === undefined) throw new RegionError(`${what}: section "${s.name}" refers to missing buffer ${s.buffer}`);
    const end = s.byteOffset + s.length * elem;
    if (end > buf.byteLength) {
      throw new RegionError(`${what}: buffers[${s.buffer}] is too small: ${buf.byteLength} bytes, section "${s.name}" ends at ${end}`);
    }
  }
  return new Region({ layout, buffers });
}
