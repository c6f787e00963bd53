/**
 * Filesystem configuration: defaults, validation (every bad value named with its range, before any
 * memory is allocated), and the region layout it implies. The layout is a pure function of the
 * normalised config, so attach can recompute it and refuse a handle made by a different build.
 */
import type { RegionSpec } from '../shared/region.js';
import { checkBool, checkInt, checkOneOf, ConfigError, readOptions } from '../shared/validate.js';
import { counterWords } from '../shared/counters.js';
import {
  ALLOCATORS, FIXES, FREELIST_LOOKUPS, type AllocatorKind, type FixKind, type FreelistLookup,
} from './types.js';
import { ThreadRegistry } from '../locks/thread-registry.js';
import { RECORD_WORDS } from './bucket-table.js';
import { bitmapWords } from './bitmap-index.js';
import { SLOT_WORDS, hashSize } from './open-buckets.js';
import { EXTENT_WORDS } from './extents.js';
import { ERROR_WORDS } from './error-log.js';
import { DEVICE64_WORDS, DEVICE_WORDS } from './device.js';
import { MEMBER_COUNTERS } from './counters.js';
import { INTENT_WORDS } from './intents.js';

/**
 * What createFilesystem accepts: every field optional (FILESYSTEM_DEFAULTS fills the rest), each
 * checked before any memory is allocated.
 */
export interface FilesystemOptions {
  /** Buckets on the device. */
  buckets?: number;
  /** Sectors per bucket. */
  bucketSectors?: number;
  /** Open-bucket slots, slot 0 included (it is the null index and never used). */
  openBuckets?: number;
  allocator?: AllocatorKind;
  fix?: FixKind;
  /** Advance the allocation cursor (the fix shipped alongside); without it every scan starts at 0. */
  cursorFix?: boolean;
  /** Freelist allocator only: read each candidate's record through a locked lookup. */
  freelistLookup?: FreelistLookup;
  /** Emptied buckets wait in need_discard until a discard step; false: straight to free, gen + 1. */
  discard?: boolean;
  /** Capacity of the extent table (live extents at once). */
  extents?: number;
  /** Threads that may attach (each gets its own counter block). */
  maxThreads?: number;
  /** Entries kept in the shared error log (the count of errors keeps going past it). */
  errorLogSize?: number;
  /** Longest wait for any internal lock before LockTimeoutError; keeps a dead holder from hanging. */
  lockTimeoutMs?: number;
  /**
   * The allocation oracle: at every publish, record whether the bucket was in truth free at the gen
   * the scan read, and what each duplicate's writes broke (one Atomics.load per allocation). It
   * never changes what the allocator decides. Default true; false takes it off the path entirely.
   */
  oracle?: boolean;
}

/** A normalised configuration: every option filled in and checked; the region layout is a function of it. */
export type FilesystemConfig = Required<FilesystemOptions>;

/** Most buckets a device may have (option `buckets`). */
export const MAX_BUCKETS = 1 << 24;
/** Most sectors per bucket (option `bucketSectors`); buckets × bucketSectors is capped at 2^30 too. */
export const MAX_BUCKET_SECTORS = 1 << 16;
/** Most open-bucket slots (option `openBuckets`, slot 0 included). */
export const MAX_OPEN_BUCKETS = 1 << 16;

/** The value of every option left out (`extents: 0` means: sized from the device). */
export const DEFAULTS: FilesystemConfig = {
  buckets: 1024,
  bucketSectors: 64,
  openBuckets: 1024,
  allocator: 'early',
  fix: 'none',
  cursorFix: false,
  freelistLookup: 'locked',
  discard: true,
  extents: 0,
  maxThreads: 64,
  errorLogSize: 256,
  lockTimeoutMs: 10_000,
  oracle: true,
};

const KNOWN = Object.keys(DEFAULTS);

/** Default extent capacity: enough for every bucket to hold a few extents, capped at 4M. */
function defaultExtents(buckets: number, bucketSectors: number): number {
  return Math.min(Math.max(4096, buckets * Math.min(bucketSectors, 8)), 1 << 22);
}

/**
 * Defaults filled in and every value checked. `undefined` anywhere means "the default"; anything but
 * a plain object of known keys is refused (see readOptions).
 */
export function normalizeConfig(options: unknown): FilesystemConfig {
  const o: FilesystemConfig = { ...DEFAULTS, ...readOptions<FilesystemOptions>('options', options, KNOWN) };
  const buckets = checkInt('buckets', o.buckets, 1, MAX_BUCKETS);
  const bucketSectors = checkInt('bucketSectors', o.bucketSectors, 1, MAX_BUCKET_SECTORS);
  if (buckets * bucketSectors > 2 ** 30) {
    throw new ConfigError('buckets × bucketSectors', `must be at most 2^30 sectors (one backpointer word per sector), got ${buckets} × ${bucketSectors}`);
  }
  const openBuckets = checkInt('openBuckets', o.openBuckets, 4, MAX_OPEN_BUCKETS);
  const extents = o.extents === 0 ? defaultExtents(buckets, bucketSectors) : checkInt('extents', o.extents, 1, 1 << 24);
  return {
    buckets,
    bucketSectors,
    openBuckets,
    allocator: checkOneOf('allocator', o.allocator, ALLOCATORS),
    fix: checkOneOf('fix', o.fix, FIXES),
    cursorFix: checkBool('cursorFix', o.cursorFix),
    freelistLookup: checkOneOf('freelistLookup', o.freelistLookup, FREELIST_LOOKUPS),
    discard: checkBool('discard', o.discard),
    extents,
    maxThreads: checkInt('maxThreads', o.maxThreads, 1, 1024),
    errorLogSize: checkInt('errorLogSize', o.errorLogSize, 1, 1 << 16),
    lockTimeoutMs: checkInt('lockTimeoutMs', o.lockTimeoutMs, 1, 3_600_000),
    oracle: checkBool('oracle', o.oracle),
  };
}

export const FILESYSTEM_KIND = 'sab-alloc/filesystem';
export const FILESYSTEM_VERSION = 2;

/**
 * Sections. Small, hot, shared state in buffer 0; the sector map (a backpointer per extent start and
 * the covering extent of every written sector) and the extent table, which grow with the device, in
 * buffers 1 and 2.
 */
export function filesystemSpec(c: FilesystemConfig): RegionSpec {
  return {
    kind: FILESYSTEM_KIND,
    version: FILESYSTEM_VERSION,
    sections: [
      { name: 'device', type: 'i32', length: DEVICE_WORDS },
      { name: 'device64', type: 'i64', length: DEVICE64_WORDS },
      { name: 'registry', type: 'i32', length: ThreadRegistry.words(c.maxThreads) },
      { name: 'intents', type: 'i32', length: c.maxThreads * INTENT_WORDS },
      { name: 'records', type: 'i32', length: c.buckets * RECORD_WORDS },
      { name: 'freeSpace', type: 'i32', length: bitmapWords(c.buckets) },
      { name: 'needDiscard', type: 'i32', length: bitmapWords(c.buckets) },
      { name: 'slots', type: 'i32', length: c.openBuckets * SLOT_WORDS },
      { name: 'hash', type: 'i32', length: hashSize(c.openBuckets) },
      { name: 'errors', type: 'i32', length: c.errorLogSize * ERROR_WORDS },
      { name: 'counters', type: 'f64', length: counterWords(MEMBER_COUNTERS.length, c.maxThreads) },
      { name: 'sectorMap', type: 'i32', length: c.buckets * c.bucketSectors, buffer: 1 },
      { name: 'extents', type: 'i32', length: c.extents * EXTENT_WORDS, buffer: 2 },
    ],
  };
}
