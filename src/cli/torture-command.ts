/**
 * `sab-alloc torture`: one multi-worker torture run with every knob; prints a banner, a progress bar
 * (on a terminal), a stat line per interval and a closing report; exits 0 success, 1 corruption,
 * 2 bad usage, 3 stall or harness error.
 */
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { ALLOCATORS, FIXES, FREELIST_LOOKUPS } from '../alloc/types.js';
import { RACE_POINT_NAMES, racePointIndex, racePointLabel } from '../alloc/race-points.js';
import { runTorture, defaultWorkers, SCHEDULES, type TortureOptions, type TortureResult } from '../torture/runner.js';
import { banner, statLine, summary } from '../torture/report.js';
import { DEFAULT_DELAY_POINTS, type DelayPolicy } from '../race/control.js';
import { ReplayMismatchError, type ReplaySetting } from '../race/replay-settings.js';
import {
  UsageError, checkOutputFile, delayArg, delayOf, exitAfterOutputFailure, exitForError, given, intArg, listArg, numberArg, pathArg, writeOutputFile,
  type FlagNames,
} from './args.js';

/** Library option → flag, for every option this command sets under another name. */
const FLAGS: FlagNames = {
  workers: '--workers', maxThreads: '--workers', allocator: '--allocator', fix: '--fix', cursorFix: '--cursor-fix',
  freelistLookup: '--freelist-lookup', discard: '--no-discard', buckets: '--buckets', bucketSectors: '--bucket-sectors',
  openBuckets: '--open-buckets', ops: '--ops', seconds: '--seconds', seed: '--seed', delay: '--delay', 'delay.points': '--delay-points',
  schedule: '--schedule', depth: '--depth', steps: '--steps', replay: '--replay', kill: '--kill', crash: '--crash', expect: '--expect',
  statIntervalS: '--stat-interval', stallTimeoutS: '--stall-timeout', lockTimeoutMs: '--stall-timeout', streams: '--streams',
  maxExtentSectors: '--max-extent', 'buckets × bucketSectors': '--buckets × --bucket-sectors',
};

/** A recorded setting as the flags that give it. */
function asFlags(setting: ReplaySetting, value: unknown): string {
  switch (setting) {
    case 'cursorFix': return value === true ? '--cursor-fix' : 'no --cursor-fix';
    case 'discard': return value === false ? '--no-discard' : 'no --no-discard';
    case 'kill': return value === true ? '--kill' : 'no --kill';
    case 'putProbability': return `put probability ${String(value)} (not a flag: set through the library's putProbability)`;
    default: return `${FLAGS[setting] ?? setting} ${String(value)}`;
  }
}

interface TortureFlags {
  workers?: number; allocator?: TortureOptions['allocator']; fix?: TortureOptions['fix']; cursorFix?: boolean;
  freelistLookup?: TortureOptions['freelistLookup']; discard: boolean; buckets?: number; bucketSectors?: number;
  openBuckets?: number; ops?: number; seconds?: number; seed?: number; delay?: DelayPolicy | 'none'; delayPoints?: string[];
  schedule?: TortureOptions['schedule']; depth?: number; steps?: number; replay?: string; kill?: boolean; crash?: number;
  expect?: 'race' | 'clean'; json?: string; statInterval?: number; stallTimeout?: number; streams?: number;
  maxExtent?: number; quiet?: boolean;
}

export function registerTortureCommand(program: Command): void {
  const points = RACE_POINT_NAMES.map((_, i) => racePointLabel(i)).join(', ');
  program
    .command('torture')
    .description('run real workers against one shared allocator and check for corruption')
    .option('--workers <n>', `worker threads (default: 2 × cores = ${defaultWorkers()})`, intArg(1, 64))
    .addOption(new Option('--allocator <kind>', 'early scans the bucket table; freelist scans the free-space index').choices(ALLOCATORS).default('early'))
    .addOption(new Option('--fix <fix>', 'none (the 2023 bug), seqlock revalidation, or keylock').choices(FIXES).default('none'))
    .option('--cursor-fix', 'advance the allocation cursor (shipped alongside the key lock)')
    .addOption(new Option('--freelist-lookup <how>', 'freelist allocator: read candidates through a locked lookup or not').choices(FREELIST_LOOKUPS).default('locked'))
    .option('--no-discard', 'emptied buckets go straight back to free with gen + 1 (no need_discard stage)')
    .option('--buckets <n>', 'buckets on the device (default 256)', intArg(4, 1 << 20))
    .option('--bucket-sectors <n>', 'sectors per bucket (default 16)', intArg(1, 4096))
    .option('--open-buckets <n>', 'open-bucket slots (default: enough for every stream)', intArg(4, 1 << 16))
    .option('--ops <n>', 'allocations per worker (default 5000)', intArg(1, 1e9))
    .option('--seconds <s>', 'time box instead of --ops (free schedule only)', numberArg(0.1, 86_400))
    .option('--seed <n>', 'master seed (default: random, printed)', intArg(0, 0xffffffff))
    .option('--delay <spec>', 'race-point delay KIND:LENGTH:PROBABILITY, e.g. spin:20us:0.2 or sleep:1ms:0.01, or none (the default); probability is divided by the worker count, as locktorture does', delayArg)
    .option('--delay-points <list>', `race points to delay at (default ${DEFAULT_DELAY_POINTS.map((p) => racePointLabel(racePointIndex(p))).join(',')}); known: ${points}`,
      // Labels as printed everywhere, and the library's camelCase names, which RaceControl accepts too.
      listArg('race point', [...RACE_POINT_NAMES.map((_, i) => racePointLabel(i)), ...RACE_POINT_NAMES], RACE_POINT_NAMES.map((_, i) => racePointLabel(i))))
    .addOption(new Option('--schedule <mode>', 'free: truly parallel; random / pct: one worker at a time, replayable').choices(SCHEDULES).default('free'))
    .option('--depth <d>', 'PCT bug depth d (default 3; --schedule pct only)', intArg(1, 33))
    .option('--steps <k>', 'PCT k: expected scheduling steps (default: estimated from --ops; --schedule pct only)', intArg(1, 2 ** 30))
    .option('--replay <schedule>', 'replay the schedule string a controlled run printed, step for step')
    .option('--kill', 'terminate a seeded-random worker at a seeded-random race point')
    .option('--crash <n>', 'crash torture: terminate a random worker at n random moments (inside critical sections too), recover it, start a replacement, and check the history at the end; needs --seconds', intArg(1, 1_000_000))
    .addOption(new Option('--expect <outcome>', 'race: corruption must be found (positive control); clean: it must not').choices(['race', 'clean']))
    .option('--json <file>', 'also write the whole result as one JSON document', pathArg('file path'))
    .option('--stat-interval <s>', 'seconds between stat lines (default 1; 0 = none)', numberArg(0, 3600))
    .option('--stall-timeout <s>', 'seconds without a completed operation before a STALL verdict (default 15)', numberArg(0.5, 3600))
    .option('--streams <n>', 'write streams per worker (default 4)', intArg(1, 64))
    .option('--max-extent <sectors>', 'largest extent written (default 4)', intArg(1, 4096))
    .option('--quiet', 'only the closing report')
    .action(async (flags: TortureFlags, cmd: Command) => {
      process.exitCode = await tortureAction(flags, cmd);
    });
}

/** Flags that would be silently ignored in this combination: refused, naming why. */
function refuseIgnored(f: TortureFlags, cmd: Command): void {
  if (given(cmd, 'freelistLookup') && f.allocator !== 'freelist') {
    throw new UsageError('--freelist-lookup', 'applies only to --allocator freelist (the early allocator has no free-space lookup)');
  }
  for (const [attr, flag] of [['depth', '--depth'], ['steps', '--steps']] as const) {
    if (!given(cmd, attr)) continue;
    if (f.replay !== undefined) throw new UsageError(flag, 'has no effect with --replay: the schedule string fixes every decision');
    if (f.schedule !== 'pct') throw new UsageError(flag, 'applies only to --schedule pct');
  }
  if (f.delayPoints !== undefined && (delayOf(f.delay) ?? null) === null) throw new UsageError('--delay-points', 'needs --delay KIND:LENGTH:PROBABILITY (there is no delay to place)');
  if (f.quiet && given(cmd, 'statInterval')) throw new UsageError('--stat-interval', '--quiet prints no stat lines; give one or the other');
}

async function tortureAction(f: TortureFlags, cmd: Command): Promise<number> {
  try {
    refuseIgnored(f, cmd);
    if (f.json !== undefined) checkOutputFile('--json', f.json);
  } catch (e) {
    return exitForError(e, FLAGS);
  }
  let delay = delayOf(f.delay) ?? null;
  if (f.delayPoints !== undefined && delay !== null) delay = { ...delay, points: f.delayPoints };
  const options: TortureOptions = {
    ...(f.workers !== undefined ? { workers: f.workers } : {}),
    allocator: f.allocator, fix: f.fix, cursorFix: f.cursorFix ?? false, freelistLookup: f.freelistLookup,
    discard: f.discard,
    ...(f.buckets !== undefined ? { buckets: f.buckets } : {}),
    ...(f.bucketSectors !== undefined ? { bucketSectors: f.bucketSectors } : {}),
    ...(f.openBuckets !== undefined ? { openBuckets: f.openBuckets } : {}),
    ...(f.ops !== undefined ? { ops: f.ops } : {}),
    ...(f.seconds !== undefined ? { seconds: f.seconds } : {}),
    ...(f.seed !== undefined ? { seed: f.seed } : {}),
    delay,
    schedule: f.schedule,
    ...(f.depth !== undefined ? { depth: f.depth } : {}),
    ...(f.steps !== undefined ? { steps: f.steps } : {}),
    replay: f.replay ?? null,
    kill: f.kill ?? false,
    ...(f.crash !== undefined ? { crash: f.crash } : {}),
    expect: f.expect ?? null,
    statIntervalS: f.quiet ? 0 : (f.statInterval ?? 1),
    ...(f.stallTimeout !== undefined ? { stallTimeoutS: f.stallTimeout } : {}),
    ...(f.streams !== undefined ? { streams: f.streams } : {}),
    ...(f.maxExtent !== undefined ? { maxExtentSectors: f.maxExtent } : {}),
  };
  const tty = process.stderr.isTTY === true && !f.quiet;
  const bar = tty ? new cliProgress.SingleBar({ format: '  {bar} {percentage}% | {value}/{total} allocations | {duration}s', clearOnComplete: true, stream: process.stderr }, cliProgress.Presets.shades_classic) : null;
  let result: TortureResult;
  try {
    result = await runTorture(options, {
      onStart: (p) => {
        if (!f.quiet) for (const line of banner(p)) console.log(line);
        if (bar !== null && Number.isFinite(p.ops)) bar.start(p.ops * p.workers, 0);
      },
      onProgress: (done) => bar?.update(done),
      onStat: (s) => {
        if (bar !== null) bar.stop();
        console.log(statLine(s));
        if (bar !== null && bar.getTotal() > 0) bar.start(bar.getTotal(), s.allocations);
      },
    });
  } catch (e) {
    bar?.stop();
    if (e instanceof ReplayMismatchError) {
      const recorded = e.differences.map((d) => asFlags(d.setting, d.recorded)).join(', ');
      const mine = e.differences.map((d) => asFlags(d.setting, d.given)).join(', ');
      return exitForError(new UsageError('--replay', `this schedule was recorded with ${recorded}; this run has ${mine}. `
        + 'A replay needs the recorded run\'s settings: rerun the "replay:" command that run printed'), FLAGS);
    }
    return exitForError(e, FLAGS);
  }
  bar?.stop();
  for (const line of summary(result)) console.log(line);
  if (f.json !== undefined) {
    try {
      writeOutputFile('--json', f.json, `${JSON.stringify(result, null, 2)}\n`);
    } catch (e) {
      return exitAfterOutputFailure(e, result.exitCode, FLAGS);
    }
  }
  return result.exitCode;
}
