export {
  runTorture, normalizeTortureOptions, defaultWorkers, duplicateReport, EXIT_CODES, SCHEDULES,
  type DuplicateReport, type KillReport, type ScheduleKind, type StatSnapshot, type TortureHooks, type TortureOptions, type TortureParams, type TortureResult, type Verdict,
} from './runner.js';
export { runDemo, readDemo, demoMarkdown, DEMO_CONFIGS, type DemoConfig, type DemoOptions, type DemoResult, type DemoRow } from './demo.js';
export { raceRate, formatRate, type Rate } from './rates.js';
export { banner, statLine, summary, replayCommand } from './report.js';
export type { FirstViolation, WorkloadResult } from './workload.js';
export type { CrashEvent, DeathSnapshot, HistoryCheck } from './crash.js';
export {
  runLockTorture, runSeqlockConsistency, runDeadOwner, TortureStallError, LOCK_KINDS, REAL_LOCK_KINDS, SEQ_READER_MODES,
  type LockKind, type LockTortureOptions, type LockTortureResult, type SeqlockConsistencyOptions, type SeqlockConsistencyResult,
  type DeadOwnerOptions, type DeadOwnerResult, type DeadOwnerWaiter, type ReaderReport, type TortureWorkerReport, type WorkerProgress,
  type LockAttempt, type SeqReaderMode, type SeqReaderResult,
} from './lock-torture.js';
