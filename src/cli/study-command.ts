/**
 * `sab-alloc study cursor`: the cursor study (src/study/cursor-study.ts) — race rate with and
 * without the cursor fix across workload shape, fill, device size, workers, delay and discards,
 * the cascade-free first-duplicate measure, the mechanism counters; JSON, a Markdown report and a
 * chart under --out. `--quick` runs the two baselines briefly (a few seconds).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { runCursorStudy, planConditions } from '../study/cursor-study.js';
import { combineLines, studyLines, writeStudy } from '../study/cursor-report.js';
import type { CursorStudyResult } from '../study/cursor-study.js';
import { ConfigError } from '../shared/validate.js';
import { OutputError, checkOutputDir, checkOutputFile, exitAfterOutputFailure, exitForError, intArg, pathArg, type FlagNames } from './args.js';
import { CHARTS_INSTALL_HINT } from '../bench/report.js';

/** Library option → flag. */
const FLAGS: FlagNames = {
  rounds: '--rounds', durationMs: '--duration-ms', firstRuns: '--first-runs', firstMaxMs: '--first-max-ms', seed: '--seed', combine: '--combine',
};

interface StudyFlags {
  quick?: boolean;
  rounds?: number;
  durationMs?: number;
  firstRuns?: number;
  firstMaxMs?: number;
  seed?: number;
  out: string;
  json?: string;
  combine?: string[];
}

export function registerStudyCommand(program: Command): void {
  const study = program.command('study').description('experiments that explain an observation; `study cursor`: what the cursor fix does to the race');
  study
    .command('cursor')
    .description('race rate with and without the cursor fix across conditions, first-duplicate hazard, mechanism counters; report and chart')
    .option('--quick', 'the two baselines only, briefly (a few seconds)')
    .option('--rounds <n>', 'interleaved rounds per condition (default 6; quick 2)', intArg(1, 1000))
    .option('--duration-ms <ms>', 'one long-run measurement (default 250; quick 40)', intArg(5, 600_000))
    .option('--first-runs <n>', 'first-duplicate runs per setting and shape (default 40; quick 6)', intArg(1, 100_000))
    .option('--first-max-ms <ms>', 'longest first-duplicate run (default 400; quick 60)', intArg(5, 600_000))
    .option('--seed <n>', 'seed for the order of conditions and the workloads (default: random, recorded)', intArg(0, 0xffffffff))
    .option('--out <dir>', 'where the JSON, report and chart go', pathArg('directory'), 'results/cursor-study')
    .option('--json <file>', 'the JSON result (default <out>/cursor-study.json)', pathArg('file path'))
    .option('--combine <files...>', 'print several earlier results side by side (per-run and pooled ratios) instead of running')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .action(async (f: StudyFlags) => {
      process.exitCode = await studyAction(f);
    });
}

async function studyAction(f: StudyFlags): Promise<number> {
  try {
    if (f.combine !== undefined) {
      const results = f.combine.map((file) => {
        try {
          return JSON.parse(readFileSync(file, 'utf8')) as CursorStudyResult;
        } catch (e) {
          throw new ConfigError('combine', `cannot read ${file} as a cursor-study result: ${(e as Error).message}`);
        }
      });
      for (const line of combineLines(results)) console.log(line);
      return 0;
    }
    const quick = f.quick ?? false;
    const outDir = resolve(f.out);
    checkOutputDir('--out', outDir);
    if (f.json !== undefined) checkOutputFile('--json', resolve(f.json));
    const plan = planConditions(quick);
    process.stderr.write(`cursor study: ${plan.length} conditions × 2 cursor settings${quick ? ' (quick)' : ''}, then the first-duplicate runs\n`);
    const tty = process.stderr.isTTY === true;
    const r = await runCursorStudy({
      quick,
      ...(f.rounds !== undefined ? { rounds: f.rounds } : {}),
      ...(f.durationMs !== undefined ? { durationMs: f.durationMs } : {}),
      ...(f.firstRuns !== undefined ? { firstRuns: f.firstRuns } : {}),
      ...(f.firstMaxMs !== undefined ? { firstMaxMs: f.firstMaxMs } : {}),
      ...(f.seed !== undefined ? { seed: f.seed } : {}),
      onRun: (done, total, label) => {
        if (tty) process.stderr.write(`\r\x1b[K  ${done}/${total} ${label}`);
      },
    });
    if (tty) process.stderr.write('\r\x1b[K');
    for (const line of studyLines(r)) console.log(line);
    let files;
    try {
      files = await writeStudy(r, outDir, f.json === undefined ? undefined : resolve(f.json));
    } catch (e) {
      return exitAfterOutputFailure((e as NodeJS.ErrnoException)?.syscall !== undefined ? new OutputError('--out', outDir, e) : e, 0, FLAGS);
    }
    console.log(`\nwrote ${files.json}\n      ${files.report}\n      ${files.chart ?? `(no chart: the optional chart renderer is not installed; \`${CHARTS_INSTALL_HINT}\`)`}  (${(r.elapsedMs / 1000).toFixed(1)} s)`);
    return 0;
  } catch (e) {
    return exitForError(e, FLAGS);
  }
}
