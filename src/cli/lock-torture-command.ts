/**
 * `sab-alloc lock-torture`: a short lock torture (not a benchmark: that is `sab-alloc bench --only
 * locks`). The busted (no-op) lock runs first through the same harness as every real lock, so the
 * table shows the unprotected run losing updates next to each lock keeping them all. Exit codes: 0
 * as expected, 1 a real lock lost updates or tripped the canary (or the busted lock did NOT — then
 * the run proves nothing), 2 bad usage, 3 stall or harness error.
 *
 * `sab-alloc locks`, its former name, still runs it and says what it is called now.
 */
import { Command, Option } from 'commander';
import Table from 'cli-table3';
import { REAL_LOCK_KINDS, TortureStallError, runLockTorture, type LockKind, type LockTortureResult } from '../torture/lock-torture.js';
import {
  UsageError, checkOutputFile, exitAfterOutputFailure, exitForError, intArg, listArg, numberArg, pathArg, writeOutputFile, type FlagNames,
} from './args.js';

/** Library option → flag. */
const FLAGS: FlagNames = { workers: '--workers', iterations: '--iterations', kind: '--locks', timeoutMs: '--timeout' };

interface LocksFlags {
  workers: number;
  iterations: number;
  locks: LockKind[];
  timeout: number;
  json?: string;
}

interface LocksRow {
  result: LockTortureResult;
  ok: boolean;
  verdict: string;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

function judge(result: LockTortureResult): LocksRow {
  const broken = result.lostUpdates > 0 || result.canaryTrips > 0 || result.tornRecord;
  if (result.kind === 'busted') {
    return { result, ok: broken, verdict: broken ? 'unsafe, as expected' : 'NOT CAUGHT: harness too weak' };
  }
  return { result, ok: !broken, verdict: broken ? 'LOST UPDATES' : 'ok' };
}

function locksTable(rows: LocksRow[]): string {
  const t = new Table({
    style: { head: [], border: [] },
    head: ['lock', 'workers', 'expected', 'got', 'lost updates', 'canary trips', 'ms', 'pairs/s', 'verdict'],
    colAligns: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
  });
  for (const { result: r, verdict } of rows) {
    t.push([
      r.kind === 'busted' ? 'busted (no lock)' : r.kind,
      r.workers,
      fmt(r.expected),
      fmt(Math.min(...r.record)),
      fmt(r.lostUpdates),
      fmt(r.canaryTrips),
      r.elapsedMs.toFixed(0),
      fmt(r.opsPerSec),
      verdict,
    ]);
  }
  return t.toString();
}

const DESCRIPTION = 'short lock torture: the busted (no-op) lock loses updates, every real lock keeps them all';

function lockTortureOptions(cmd: Command): Command {
  return cmd
    .option('--workers <n>', 'workers sharing each lock (more than cores is the interesting case)', intArg(2, 64), 4)
    .option('--iterations <n>', 'critical sections per worker', intArg(1000, 100_000_000), 200_000)
    .addOption(new Option('--locks <list>', 'locks to torture after the busted control, comma-separated')
      .argParser(listArg('lock', REAL_LOCK_KINDS))
      .default([...REAL_LOCK_KINDS], REAL_LOCK_KINDS.join(',')))
    .option('--timeout <s>', 'watchdog: seconds each run may take', numberArg(1, 3600), 60)
    .option('--json <file>', 'also write the results as JSON', pathArg('file path'));
}

export function registerLockTortureCommand(program: Command): void {
  lockTortureOptions(program.command('lock-torture').description(DESCRIPTION))
    .action(async (flags: LocksFlags) => {
      process.exitCode = await locksAction(flags);
    });
  // The former name: a torture run called "locks" read like the lock benchmark (npm run bench:locks).
  lockTortureOptions(program.command('locks', { hidden: true }).description(`${DESCRIPTION} (former name of lock-torture)`))
    .action(async (flags: LocksFlags) => {
      process.stderr.write('note: `sab-alloc locks` is now `sab-alloc lock-torture` (a torture run; the lock benchmark is `sab-alloc bench --only locks`)\n');
      process.exitCode = await locksAction(flags);
    });
}

async function locksAction(f: LocksFlags): Promise<number> {
  try {
    if (f.workers * f.iterations > 2 ** 31 - 1) {
      throw new UsageError('--iterations', `${f.workers} workers × ${f.iterations} iterations must be at most ${2 ** 31 - 1}`);
    }
    if (f.json !== undefined) checkOutputFile('--json', f.json);
  } catch (e) {
    return exitForError(e, FLAGS);
  }
  console.log(`lock torture: ${f.workers} workers × ${fmt(f.iterations)} critical sections per lock; each section copies a 4-word record with plain reads, writes back every word + 1, and checks a canary`);
  const rows: LocksRow[] = [];
  try {
    for (const kind of ['busted', ...f.locks] as LockKind[]) {
      rows.push(judge(await runLockTorture({ kind, workers: f.workers, iterations: f.iterations, timeoutMs: f.timeout * 1000 })));
    }
  } catch (e) {
    return exitForError(e, FLAGS, e instanceof TortureStallError ? 'STALL' : 'HARNESS_ERROR');
  }
  console.log(locksTable(rows));
  const failed = rows.filter((r) => !r.ok);
  const busted = rows[0]!;
  if (!busted.ok) {
    console.log(`The busted lock lost nothing this time, so the clean runs prove nothing: rerun with more --iterations (now ${f.iterations}).`);
  } else {
    console.log(`Without a lock ${fmt(busted.result.lostUpdates)} of ${fmt(busted.result.expected)} updates were lost; ${failed.length === 0 ? 'every lock kept them all.' : `${failed.map((r) => r.result.kind).join(', ')} lost updates too.`}`);
  }
  const code = failed.length === 0 ? 0 : 1;
  if (f.json !== undefined) {
    try {
      writeOutputFile('--json', f.json, `${JSON.stringify(rows.map((r) => ({ ...r.result, ok: r.ok, verdict: r.verdict })), null, 2)}\n`);
    } catch (e) {
      return exitAfterOutputFailure(e, code, FLAGS);
    }
  }
  return code;
}
