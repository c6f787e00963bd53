/**
 * `sab-alloc reproduce`: the reported interleaving, step by step, with two real workers — the first
 * thing a new user should see. Prints the trace, what each task ended up with, the errors and fsck,
 * and whether the race happened or why the fix refused. `--all` runs every configuration.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import Table from 'cli-table3';
import { ALLOCATORS, FIXES, FREELIST_LOOKUPS, WRITE_TYPES, type WriteType } from '../alloc/types.js';
import { reproduceReportedRace, type ReproduceOptions, type ReproduceResult } from '../race/reproduce.js';
import {
  UsageError, checkOutputFile, exitAfterOutputFailure, exitForError, given, pathArg, writeOutputFile, type FlagNames,
} from './args.js';

/** Library option → flag, for the options this command sets. */
const FLAGS: FlagNames = {
  allocator: '--allocator', fix: '--fix', cursorFix: '--cursor-fix', freelistLookup: '--freelist-lookup', dataTypes: '--data-types',
};

/** The flags that choose one configuration: --all runs every configuration and would ignore them. */
const CONFIG_FLAGS = [['allocator', '--allocator'], ['fix', '--fix'], ['cursorFix', '--cursor-fix'], ['freelistLookup', '--freelist-lookup'], ['dataTypes', '--data-types']] as const;

interface ReproduceFlags {
  allocator: ReproduceOptions['allocator'];
  fix: ReproduceOptions['fix'];
  cursorFix?: boolean;
  freelistLookup: ReproduceOptions['freelistLookup'];
  dataTypes?: [WriteType, WriteType];
  all?: boolean;
  json?: string;
}

function dataTypesArg(value: string): [WriteType, WriteType] {
  const parts = value.split(',');
  if (parts.length !== 2 || !parts.every((p) => (WRITE_TYPES as readonly string[]).includes(p))) {
    throw new InvalidArgumentError(`must be two of ${WRITE_TYPES.join('|')} separated by a comma, e.g. user,btree`);
  }
  return parts as [WriteType, WriteType];
}

/** The configurations `--all` walks through, in the order the story is told. */
export const REPRODUCE_CASES: readonly { name: string; options: ReproduceOptions }[] = [
  { name: 'early/none', options: { allocator: 'early', fix: 'none' } },
  { name: 'early/none user vs btree', options: { allocator: 'early', fix: 'none', dataTypes: ['user', 'btree'] } },
  { name: 'early/none+cursor', options: { allocator: 'early', fix: 'none', cursorFix: true } },
  { name: 'early/seqlock', options: { allocator: 'early', fix: 'seqlock' } },
  { name: 'early/keylock', options: { allocator: 'early', fix: 'keylock' } },
  { name: 'freelist/locked', options: { allocator: 'freelist', freelistLookup: 'locked' } },
  { name: 'freelist/unlocked', options: { allocator: 'freelist', freelistLookup: 'unlocked' } },
];

/** One line: what happened to bucket K and why. */
export function outcome(r: ReproduceResult): string {
  const [t1, t2] = r.tasks;
  if (r.corrupted) {
    const kinds = [...new Set(r.errors.map((e) => e.kind))].join(' + ') || 'fsck violations';
    return `RACE REPRODUCED: Task 1 opened bucket ${t1.bucket} after Task 2 had filled and released it (a duplicate allocation) → ${kinds}`;
  }
  const refusal = r.trace.find((e) => e.worker === 0 && (e.point === 'revalidate-failed' || e.point === 'locked-reread-refused' || e.point === 'found-open'));
  const why = refusal === undefined ? 'no refusal recorded'
    : refusal.point === 'revalidate-failed' ? 'the seqlock re-check saw the record change'
      : refusal.point === 'locked-reread-refused' ? 'the locked re-read saw it is no longer free'
        : 'it was still open';
  return `SAFE: Task 1 skipped bucket ${t2.bucket} (${why}) and opened bucket ${t1.bucket}; fsck clean`;
}

function printOne(r: ReproduceResult): void {
  const c = r.config;
  const [t1, t2] = r.tasks;
  console.log(`The reported interleaving (linux-bcachefs, 2023-10-19), two real workers sharing one filesystem:`);
  console.log(`  allocator ${c.allocator}, fix ${c.fix}, cursor fix ${c.cursorFix ? 'on' : 'off'}${c.allocator === 'freelist' ? `, lookup ${c.freelistLookup}` : ''}`);
  console.log('');
  for (const line of r.narrative) console.log(`  ${line}`);
  console.log('');
  for (const t of [t1, t2]) {
    const name = t.worker === 0 ? 'Task 1' : 'Task 2';
    console.log(`${name}: opened bucket ${t.bucket} (gen ${t.gen}, op ${t.opId}), wrote at offset ${t.offset}${t.error ? ` → ${t.errorKinds.join(' + ')}` : ''}`);
  }
  for (const e of r.errors) console.log(`error log: ${e.kind} in bucket ${e.bucket}: writer ${e.writer} (op ${e.opId}) vs writer ${e.otherWriter} (op ${e.otherOpId})`);
  console.log(`allocation oracle: ${r.duplicateAllocations} duplicate allocation(s)`);
  console.log(`fsck: ${r.fsck.ok ? 'clean' : r.fsck.errors.map((e) => `${e.kind} (bucket ${e.bucket})`).join(', ')}`);
  console.log(outcome(r));
}

export function registerReproduceCommand(program: Command): void {
  program
    .command('reproduce')
    .description('replay the reported interleaving step by step with two real workers and show what each fix does')
    .addOption(new Option('--allocator <kind>', 'allocator').choices(ALLOCATORS).default('early'))
    .addOption(new Option('--fix <fix>', 'fix strategy').choices(FIXES).default('none'))
    .option('--cursor-fix', 'advance the allocation cursor')
    .addOption(new Option('--freelist-lookup <how>', 'freelist allocator: locked or unlocked candidate lookup').choices(FREELIST_LOOKUPS).default('locked'))
    .option('--data-types <t1,t2>', 'data types Task 1 and Task 2 write (default user,user; user,btree shows the mismatch)', dataTypesArg)
    .option('--all', 'run every configuration and print a summary table (no configuration flags)')
    .option('--json <file>', 'also write the result(s) as JSON', pathArg('file path'))
    .action(async (f: ReproduceFlags, cmd: Command) => {
      process.exitCode = await reproduceAction(f, cmd);
    });
}

async function reproduceAction(f: ReproduceFlags, cmd: Command): Promise<number> {
  try {
    if (f.all) {
      const chosen = CONFIG_FLAGS.find(([attr]) => given(cmd, attr));
      if (chosen !== undefined) throw new UsageError(chosen[1], 'has no effect with --all, which runs every configuration; give one or the other');
    }
    if (given(cmd, 'freelistLookup') && f.allocator !== 'freelist') {
      throw new UsageError('--freelist-lookup', 'applies only to --allocator freelist (the early allocator has no free-space lookup)');
    }
    if (f.json !== undefined) checkOutputFile('--json', f.json);
  } catch (e) {
    return exitForError(e, FLAGS);
  }
  let json: unknown;
  try {
    if (f.all) {
      const table = new Table({ style: { head: [], border: [] }, head: ['configuration', 'Task 2 bucket', 'Task 1 bucket', 'outcome'], wordWrap: true, colWidths: [26, 8, 8, 70] });
      const results: { name: string; result: ReproduceResult }[] = [];
      for (const c of REPRODUCE_CASES) {
        const result = await reproduceReportedRace(c.options);
        results.push({ name: c.name, result });
        table.push([c.name, result.tasks[1].bucket, result.tasks[0].bucket, outcome(result)]);
      }
      console.log(table.toString());
      json = results;
    } else {
      const result = await reproduceReportedRace({
        allocator: f.allocator, fix: f.fix, cursorFix: f.cursorFix ?? false, freelistLookup: f.freelistLookup,
        ...(f.dataTypes !== undefined ? { dataTypes: f.dataTypes } : {}),
      });
      printOne(result);
      json = result;
    }
  } catch (e) {
    return exitForError(e, FLAGS);
  }
  if (f.json !== undefined) {
    try {
      writeOutputFile('--json', f.json, `${JSON.stringify(json, null, 2)}\n`);
    } catch (e) {
      return exitAfterOutputFailure(e, 0, FLAGS);
    }
  }
  return 0;
}
