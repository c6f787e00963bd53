/**
 * `sab-alloc explore`: every schedule of W workers × M operations with at most C preemptions, run on
 * real workers and judged one by one; prints what was covered, each failing class with its shortest
 * schedule (a replay string and its trace), or the statement of what a clean run proves. Exits 0
 * clean, 1 a failing schedule found, 2 bad usage, 3 harness error. `--replay` runs one schedule.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { ALLOCATORS, FIXES, FREELIST_LOOKUPS, WRITE_TYPES, type WriteType } from '../alloc/types.js';
import {
  explore, replayExplore, ExploreHarnessError, normalizeExploreOptions, type ExploreOptions, type ExploreParams, type ExploreResult, type ReplayResult,
} from '../race/explore.js';
import { OP_MIXES } from '../race/explore-program.js';
import { MAX_EXPLORE_BUCKETS } from '../race/explore-footprint.js';
import { MAX_EXPLORE_WORKERS } from '../race/explore-shared.js';
import { count } from '../torture/format.js';
import { checkOutputFile, exitAfterOutputFailure, exitForError, HARNESS_EXIT, intArg, pathArg, writeOutputFile, type FlagNames } from './args.js';

/** Library option → flag. */
const FLAGS: FlagNames = {
  workers: '--workers', ops: '--ops', preemptions: '--preemptions', allocator: '--allocator', fix: '--fix', cursorFix: '--cursor-fix',
  freelistLookup: '--freelist-lookup', discard: '--no-discard', buckets: '--buckets', bucketSectors: '--bucket-sectors', sectors: '--sectors',
  mix: '--mix', dataTypes: '--data-types', por: '--no-por', maxSchedules: '--max-schedules', seconds: '--seconds', replay: '--replay',
  stallTimeoutMs: '--stall-timeout', stallTimeout: '--stall-timeout',
};

interface ExploreFlags {
  workers?: number; ops?: number; preemptions?: number; allocator?: ExploreOptions['allocator']; fix?: ExploreOptions['fix'];
  cursorFix?: boolean; freelistLookup?: ExploreOptions['freelistLookup']; discard: boolean; buckets?: number; bucketSectors?: number;
  sectors?: number; mix?: ExploreOptions['mix']; dataTypes?: WriteType[]; por: boolean; maxSchedules?: number; seconds?: number;
  replay?: string; json?: string; stallTimeout?: number;
}

function dataTypesArg(value: string): WriteType[] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.length === 0 || !parts.every((p) => (WRITE_TYPES as readonly string[]).includes(p))) {
    throw new InvalidArgumentError(`must be a comma-separated list of ${WRITE_TYPES.join('|')} (worker i writes the (i mod n)-th), e.g. user,btree`);
  }
  return parts as WriteType[];
}

export function registerExploreCommand(program: Command): void {
  program
    .command('explore')
    .description('explore every schedule of W workers × M operations within a preemption bound, with partial-order reduction; replayable')
    .option('--workers <n>', 'workers (default 2)', intArg(1, MAX_EXPLORE_WORKERS))
    .option('--ops <n>', 'operations per worker: allocate, write, put (default 2)', intArg(1, 16))
    .option('--preemptions <c>', 'preemption bound C (default 1)', intArg(0, 8))
    .addOption(new Option('--allocator <kind>', 'early scans the bucket table; freelist scans the free-space index').choices(ALLOCATORS).default('early'))
    .addOption(new Option('--fix <fix>', 'none (the 2023 bug), seqlock revalidation, or keylock').choices(FIXES).default('none'))
    .option('--cursor-fix', 'advance the allocation cursor')
    .addOption(new Option('--freelist-lookup <how>', 'freelist allocator: locked or unlocked candidate lookup').choices(FREELIST_LOOKUPS).default('locked'))
    .option('--no-discard', 'emptied buckets go straight back to free with gen + 1 (with --mix cycle+free)')
    .option('--buckets <n>', 'buckets on the device (default workers × ops + 2)', intArg(2, MAX_EXPLORE_BUCKETS))
    .option('--bucket-sectors <n>', 'sectors per bucket (default 8)', intArg(1, 64))
    .option('--sectors <n>', 'sectors each write takes (default 4)', intArg(1, 64))
    .addOption(new Option('--mix <mix>', 'an operation: cycle = allocate, write, put; cycle+free = then free the extent (and discard)').choices(OP_MIXES).default('cycle'))
    .option('--data-types <list>', 'data type each worker writes, cycled over workers (default user)', dataTypesArg)
    .option('--no-por', 'no partial-order reduction: run every schedule')
    .option('--max-schedules <n>', 'stop after this many schedules', intArg(1, 1e9))
    .option('--seconds <s>', 'stop after this many seconds', intArg(1, 86_400))
    .option('--replay <schedule>', 'run one schedule string printed by explore (same configuration flags), with its trace')
    .option('--stall-timeout <s>', 'seconds without a scheduling decision before the harness gives up (default 10)', intArg(1, 600))
    .option('--json <file>', 'also write the result as JSON', pathArg('file path'))
    .action(async (f: ExploreFlags) => {
      process.exitCode = await exploreAction(f);
    });
}

function options(f: ExploreFlags): ExploreOptions {
  return {
    ...(f.workers !== undefined ? { workers: f.workers } : {}),
    ...(f.ops !== undefined ? { ops: f.ops } : {}),
    ...(f.preemptions !== undefined ? { preemptions: f.preemptions } : {}),
    allocator: f.allocator, fix: f.fix, cursorFix: f.cursorFix ?? false, freelistLookup: f.freelistLookup, discard: f.discard,
    ...(f.buckets !== undefined ? { buckets: f.buckets } : {}),
    ...(f.bucketSectors !== undefined ? { bucketSectors: f.bucketSectors } : {}),
    ...(f.sectors !== undefined ? { sectors: f.sectors } : {}),
    mix: f.mix,
    ...(f.dataTypes !== undefined ? { dataTypes: f.dataTypes } : {}),
    por: f.por,
    ...(f.maxSchedules !== undefined ? { maxSchedules: f.maxSchedules } : {}),
    ...(f.seconds !== undefined ? { seconds: f.seconds } : {}),
    ...(f.stallTimeout !== undefined ? { stallTimeoutMs: f.stallTimeout * 1000 } : {}),
  };
}

/** The configuration as flags, for the replay command a failing class prints. */
export function configFlags(p: ExploreParams): string {
  const d = normalizeExploreOptions({ workers: p.workers, ops: p.ops });
  const out = [`--workers ${p.workers}`, `--ops ${p.ops}`, `--allocator ${p.allocator}`, `--fix ${p.fix}`];
  if (p.cursorFix) out.push('--cursor-fix');
  if (p.allocator === 'freelist') out.push(`--freelist-lookup ${p.freelistLookup}`);
  if (!p.discard) out.push('--no-discard');
  if (p.buckets !== d.buckets) out.push(`--buckets ${p.buckets}`);
  if (p.bucketSectors !== d.bucketSectors) out.push(`--bucket-sectors ${p.bucketSectors}`);
  if (p.sectors !== d.sectors) out.push(`--sectors ${p.sectors}`);
  if (p.mix !== 'cycle') out.push(`--mix ${p.mix}`);
  if (p.dataTypes.length !== 1 || p.dataTypes[0] !== 'user') out.push(`--data-types ${p.dataTypes.join(',')}`);
  return out.join(' ');
}

function describeConfig(p: ExploreParams): string[] {
  const op = p.mix === 'cycle' ? `allocate, write ${p.sectors} sectors, put` : `allocate, write ${p.sectors} sectors, put, free${p.discard ? ', discard' : ' (gen + 1, no discard)'}`;
  const name = p.allocator === 'freelist' ? `freelist/${p.freelistLookup}${p.fix !== 'none' ? ` + ${p.fix}` : ''}` : `early/${p.fix}`;
  return [
    `configuration: ${name}, cursor fix ${p.cursorFix ? 'on' : 'off'}, discard ${p.discard ? 'on' : 'off'}; fresh device of ${p.buckets} buckets × ${p.bucketSectors} sectors`,
    `schedules:     ${p.workers} worker${p.workers === 1 ? '' : 's'} × ${p.ops} op${p.ops === 1 ? '' : 's'} (${op}; data ${p.dataTypes.join(',')}), ≤ ${p.preemptions} preemption${p.preemptions === 1 ? '' : 's'}, partial-order reduction ${p.por ? 'on' : 'off'}`,
  ];
}

/** What a clean result covers and what it does not. */
export function coverage(p: ExploreParams): string[] {
  return [
    'covers:  every order in which these workers can pass their scheduling points (allocation start and every',
    '         race point outside a lock) with at most that many preemptions, from this fresh device; each schedule',
    '         judged by the allocation oracle, the commits\' error log and fsck',
    'not:     orders inside a step (the code between two race points runs as one atomic step here; a real CPU',
    `         interleaves it), more workers, ops or preemptions, other operations${p.mix === 'cycle' ? ' (free and discard: --mix cycle+free)' : ''},`,
    '         a device already in use, worker deaths',
  ];
}

export function printExplore(r: ExploreResult): void {
  const p = r.params;
  for (const line of describeConfig(p)) console.log(line);
  console.log('');
  const secs = (r.elapsedMs / 1000).toFixed(2);
  const pruned = r.pruned.asleep + r.pruned.sleepBlocked;
  console.log(`explored ${count(r.schedules)} schedules in ${secs} s (${count(Math.round(r.schedulesPerSec))} schedules/s)`
    + (p.por ? `; pruned ${count(pruned)} branches (${count(r.pruned.asleep)} asleep, ${count(r.pruned.sleepBlocked)} executions sleep-blocked)` : ''));
  for (const b of r.bounds) {
    console.log(`  ${b.preemptions} preemption${b.preemptions === 1 ? ': ' : 's:'} ${count(b.schedules).padStart(9)} schedules${b.complete ? '' : ' (incomplete)'}`);
  }
  console.log(`  ${count(r.beyondBound)} preemption choices lay beyond the bound`);
  console.log(`distinct final states: ${count(r.distinctStates)}${r.failingStates > 0 ? ` (${count(r.failingStates)} corrupted)` : ''}`);
  if (!r.complete) console.log(`BUDGET EXHAUSTED (${r.budget}): the search stopped before covering every schedule`);
  console.log('');
  if (r.classes.length > 0) {
    console.log(`FAILING: ${count(r.failingSchedules)} schedule${r.failingSchedules === 1 ? '' : 's'} in ${r.classes.length} class${r.classes.length === 1 ? '' : 'es'} (by what broke)`);
    r.classes.forEach((c, i) => {
      console.log('');
      console.log(`class ${i + 1}: ${c.key}`);
      console.log(`  ${count(c.schedules)} schedule${c.schedules === 1 ? '' : 's'}, ${count(c.states)} final state${c.states === 1 ? '' : 's'}; shortest: ${c.shortest.preemptions} preemption${c.shortest.preemptions === 1 ? '' : 's'}, ${c.shortest.steps} decisions, ${c.shortest.duplicates} duplicate allocation${c.shortest.duplicates === 1 ? '' : 's'}`);
      console.log(`  replay: sab-alloc explore ${configFlags(p)} --replay ${c.shortest.schedule}`);
      for (const line of c.shortest.narrative) console.log(`    ${line}`);
    });
    console.log('');
  } else if (r.complete) {
    for (const line of coverage(p)) console.log(line);
    console.log('');
  }
  console.log(r.statement);
}

function printReplay(r: ReplayResult): void {
  for (const line of describeConfig(r.params)) console.log(line);
  console.log(`replaying ${r.schedule}`);
  console.log('');
  for (const line of r.narrative) console.log(`  ${line}`);
  console.log('');
  for (const m of r.messages) if (m !== '') console.log(`a worker threw: ${m}`);
  if (r.diverged) {
    console.log(`DIVERGED (${r.status}): the schedule does not fit this configuration — give the flags the replay command printed by explore`);
    return;
  }
  const v = r.verdict!;
  console.log(v.failing ? `CORRUPTED: ${v.kinds.join(' + ')} (${v.duplicates} duplicate allocation${v.duplicates === 1 ? '' : 's'})` : 'clean: no commit error, no fsck violation, no duplicate allocation');
}

async function exploreAction(f: ExploreFlags): Promise<number> {
  const save = (result: unknown, exit: number): number => {
    if (f.json === undefined) return exit;
    try {
      writeOutputFile('--json', f.json, `${JSON.stringify(result, null, 2)}\n`);
    } catch (e) {
      return exitAfterOutputFailure(e, exit, FLAGS);
    }
    return exit;
  };
  try {
    if (f.json !== undefined) checkOutputFile('--json', f.json);
    if (f.replay !== undefined) {
      const r = await replayExplore(options(f), f.replay);
      printReplay(r);
      return save(r, r.diverged ? HARNESS_EXIT : r.verdict!.failing ? 1 : 0);
    }
    const tty = process.stderr.isTTY === true;
    const r = await explore(options(f), {
      onProgress: tty ? (n, c) => process.stderr.write(`\r  ${count(n)} schedules (bound ${c})…`) : undefined,
    });
    if (tty) process.stderr.write('\r\x1b[K');
    printExplore(r);
    return save(r, r.failingSchedules > 0 ? 1 : 0);
  } catch (e) {
    if (e instanceof ExploreHarnessError) {
      for (const p of e.positions ?? []) process.stderr.write(`  worker ${p.worker}: last at ${p.lastPoint ?? 'its start'} (bucket ${p.lastBucket}, op ${p.lastOpId}), ${p.passes} points passed\n`);
    }
    return exitForError(e, FLAGS);
  }
}
