export * from './control.js';
export { reproduceReportedRace, TASK_NAMES, type ReproduceOptions, type ReproduceResult } from './reproduce.js';
export type { TaskOutcome } from './reproduce-task.js';
export { describeTrace, describeTraceEntry } from './trace-format.js';
