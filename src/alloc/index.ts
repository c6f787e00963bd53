export * from './types.js';
export {
  DEFAULTS as FILESYSTEM_DEFAULTS, MAX_BUCKETS, MAX_BUCKET_SECTORS, MAX_OPEN_BUCKETS, normalizeConfig,
  type FilesystemConfig, type FilesystemOptions,
} from './config.js';
export {
  Filesystem, OpenBucket,
  type Extent, type FilesystemHandle, type FilesystemStats, type RecoveryReport, type WatchableWorker,
} from './filesystem.js';
export { attachFilesystem, createFilesystem, type AttachOptions } from './lifecycle.js';
export type { AllocRequest } from './request.js';
export { DetachedError, type FaultPlan, type StageHook, type UpdateStage } from './fs-core.js';
export { WRITER_MAX } from './commit.js';
export { AllocError, StaleHandleError, type ExtentInfo } from './errors.js';
export { FSCK_KINDS, fsck, type FsckError, type FsckKind, type FsckOptions, type FsckReport } from './fsck.js';
export { RacePoint, RACE_POINT_NAMES, racePointLabel, type RaceHook, type RacePointName } from './race-points.js';
export type { ErrorEntry, ErrorLog } from './error-log.js';
export type { BitmapIndex } from './bitmap-index.js';
export type { ExtentTable } from './extents.js';
export type { OpenBuckets } from './open-buckets.js';
export { ALLOC_COUNTERS, type AllocCounter } from './counters.js';
