/**
 * Creating and attaching filesystems. Creation lays out and initialises the region; attaching checks
 * everything about a handle before using it — its kind, its config, every buffer's header (identity,
 * exact size, layout) and the rules the device was created with — and joins the thread registry.
 */
import { attachRegion, createRegion } from '../shared/region.js';
import { checkInt, ConfigError, isPlainObject, readOptions } from '../shared/validate.js';
import { ThreadRegistry } from '../locks/thread-registry.js';
import {
  FILESYSTEM_KIND, FILESYSTEM_VERSION, filesystemSpec, normalizeConfig, type FilesystemConfig, type FilesystemOptions,
} from './config.js';
import { Dev } from './device.js';
import { BitmapIndex } from './bitmap-index.js';
import { OpenBuckets } from './open-buckets.js';
import { usageBuckets } from './counters.js';
import { ALLOCATORS, DataType, FIXES, FREELIST_LOOKUPS } from './types.js';
import { FsCore } from './fs-core.js';
import { Filesystem, type FilesystemHandle } from './filesystem.js';

/**
 * The settings that change behaviour but not layout, as device words: a handle whose config differs
 * in any of them would run other rules over the same memory, so attach refuses it.
 */
const BEHAVIOUR: readonly { key: keyof FilesystemConfig; code: (c: FilesystemConfig) => number }[] = [
  { key: 'allocator', code: (c) => ALLOCATORS.indexOf(c.allocator) },
  { key: 'fix', code: (c) => FIXES.indexOf(c.fix) },
  { key: 'cursorFix', code: (c) => (c.cursorFix ? 1 : 0) },
  { key: 'freelistLookup', code: (c) => FREELIST_LOOKUPS.indexOf(c.freelistLookup) },
  { key: 'discard', code: (c) => (c.discard ? 1 : 0) },
  { key: 'lockTimeoutMs', code: (c) => c.lockTimeoutMs },
  { key: 'oracle', code: (c) => (c.oracle ? 1 : 0) },
];

function join(registry: ThreadRegistry, maxThreads: number): number {
  const member = registry.join();
  if (member < 0) {
    throw new ConfigError('maxThreads', `all ${maxThreads} thread-registry members are taken; detach() filesystems no longer used, recover() dead ones, or create the filesystem with a larger maxThreads`);
  }
  return member;
}

/** Lays out and initialises a filesystem: every bucket free, every open-bucket slot unused. */
export function createFilesystem(options?: FilesystemOptions): Filesystem {
  const config = normalizeConfig(options);
  const region = createRegion(filesystemSpec(config));
  const dev = region.i32('device');
  const free = new BitmapIndex(region.i32('freeSpace'), config.buckets);
  for (let b = 0; b < config.buckets; b++) free.add(b);
  new OpenBuckets(region.i32('slots'), region.i32('hash'), dev, config.openBuckets).init();
  BEHAVIOUR.forEach((b, i) => Atomics.store(dev, Dev.behaviour + i, b.code(config)));
  // Every bucket starts free, counted in member 0's share of the usage (shares are summed).
  region.f64('counters')[usageBuckets(DataType.free)] = config.buckets;
  ThreadRegistry.init(region.i32('registry'), 0, config.maxThreads);
  const registry = new ThreadRegistry(region.i32('registry'), 0, config.maxThreads);
  const member = join(registry, config.maxThreads);
  return new Filesystem(new FsCore(region, config, member, member));
}

/** Options of attachFilesystem. */
export interface AttachOptions {
  /**
   * Where this thread starts looking for free extent entries (0 ≤ placement < maxThreads). Threads
   * attach in no particular order, so a run that must replay exactly (a controlled schedule) passes
   * its worker index to make extent ids independent of attach order. Default: the member number.
   */
  placement?: number;
}

/** A Filesystem over the same shared state, in this thread. Validates the handle first. */
export function attachFilesystem(handle: unknown, options?: AttachOptions): Filesystem {
  if (!isPlainObject(handle) || handle.kind !== FILESYSTEM_KIND) {
    throw new ConfigError('handle', 'must be a filesystem handle (fs.handle), got something else');
  }
  const o = readOptions<AttachOptions>('options', options, ['placement']);
  const h = handle as unknown as FilesystemHandle;
  const config = normalizeConfig(h.config);
  const region = attachRegion(h.region, { kind: FILESYSTEM_KIND, version: FILESYSTEM_VERSION, spec: filesystemSpec(config) });
  const dev = region.i32('device');
  BEHAVIOUR.forEach((b, i) => {
    if (Atomics.load(dev, Dev.behaviour + i) !== b.code(config)) {
      throw new ConfigError(`handle.config.${b.key}`, `is ${JSON.stringify(config[b.key])}, but the filesystem in these buffers was created with another value; attach with its own handle`);
    }
  });
  const placement = o.placement === undefined ? undefined : checkInt('placement', o.placement, 0, config.maxThreads - 1);
  const registry = new ThreadRegistry(region.i32('registry'), 0, config.maxThreads);
  const member = join(registry, config.maxThreads);
  return new Filesystem(new FsCore(region, config, member, placement ?? member));
}
