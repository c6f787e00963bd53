export {
  runTorture, normalizeTortureOptions, defaultWorkers, EXIT_CODES, SCHEDULES,
  type ScheduleKind, type StatSnapshot, type TortureHooks, type TortureOptions, type TortureParams, type TortureResult, type Verdict,
} from './runner.js';
export { runDemo, readDemo, demoMarkdown, DEMO_CONFIGS, type DemoConfig, type DemoOptions, type DemoResult, type DemoRow } from './demo.js';
export { raceRate, formatRate, type Rate } from './rates.js';
export { banner, statLine, summary, replayCommand } from './report.js';
export type { FirstViolation, WorkloadResult } from './workload.js';
export { runLockTorture, runSeqlockConsistency, runDeadOwner } from './lock-torture.js';
