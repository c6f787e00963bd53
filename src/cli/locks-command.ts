/**
 * `sab-alloc locks`: a short lock torture. The busted (no-op) lock runs first through the same
 * harness as every real lock, so the table shows the unprotected run losing updates next to each
 * lock keeping them all. Exit codes: 0 as expected, 1 a real lock lost updates or tripped the canary
 * (or the busted lock did NOT — then the run proves nothing), 2 bad usage, 3 stall or harness error.
 */
import { writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import Table from 'cli-table3';
import { REAL_LOCK_KINDS, TortureStallError, runLockTorture, type LockKind, type LockTortureResult } from '../torture/lock-torture.js';
import { exitForError, intArg, numberArg } from './args.js';

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

function locksArg(value: string): LockKind[] {
  const kinds = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (kinds.length === 0) throw new InvalidArgumentError(`must list one or more of ${REAL_LOCK_KINDS.join(', ')}`);
  for (const k of kinds) {
    if (!(REAL_LOCK_KINDS as readonly string[]).includes(k)) {
      throw new InvalidArgumentError(`"${k}" is not a lock; must be a comma-separated list of ${REAL_LOCK_KINDS.join(', ')}`);
    }
  }
  return kinds as LockKind[];
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

export function registerLocksCommand(program: Command): void {
  program
    .command('locks')
    .description('short lock torture: the busted (no-op) lock loses updates, every real lock keeps them all')
    .option('--workers <n>', 'workers sharing each lock (more than cores is the interesting case)', intArg(2, 64), 4)
    .option('--iterations <n>', 'critical sections per worker', intArg(1000, 100_000_000), 200_000)
    .addOption(new Option('--locks <list>', 'locks to torture after the busted control, comma-separated')
      .argParser(locksArg)
      .default([...REAL_LOCK_KINDS], REAL_LOCK_KINDS.join(',')))
    .option('--timeout <s>', 'watchdog: seconds each run may take', numberArg(1, 3600), 60)
    .option('--json <file>', 'also write the results as JSON')
    .action(async (flags: LocksFlags) => {
      process.exitCode = await locksAction(flags);
    });
}

async function locksAction(f: LocksFlags): Promise<number> {
  if (f.workers * f.iterations > 2 ** 31 - 1) {
    process.stderr.write(`error: --iterations: ${f.workers} workers × ${f.iterations} iterations must be at most ${2 ** 31 - 1}\n`);
    return 2;
  }
  console.log(`lock torture: ${f.workers} workers × ${fmt(f.iterations)} critical sections per lock; each section copies a 4-word record with plain reads, writes back every word + 1, and checks a canary`);
  const rows: LocksRow[] = [];
  try {
    for (const kind of ['busted', ...f.locks] as LockKind[]) {
      rows.push(judge(await runLockTorture({ kind, workers: f.workers, iterations: f.iterations, timeoutMs: f.timeout * 1000 })));
    }
  } catch (e) {
    return exitForError(e, e instanceof TortureStallError ? 'STALL' : 'HARNESS_ERROR');
  }
  console.log(locksTable(rows));
  const failed = rows.filter((r) => !r.ok);
  const busted = rows[0]!;
  if (!busted.ok) {
    console.log(`The busted lock lost nothing this time, so the clean runs prove nothing: rerun with more --iterations (now ${f.iterations}).`);
  } else {
    console.log(`Without a lock ${fmt(busted.result.lostUpdates)} of ${fmt(busted.result.expected)} updates were lost; ${failed.length === 0 ? 'every lock kept them all.' : `${failed.map((r) => r.result.kind).join(', ')} lost updates too.`}`);
  }
  if (f.json !== undefined) writeFileSync(f.json, `${JSON.stringify(rows.map((r) => ({ ...r.result, ok: r.ok, verdict: r.verdict })), null, 2)}\n`);
  return failed.length === 0 ? 0 : 1;
}
