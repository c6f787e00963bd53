/**
 * `sab-alloc demo` (what `npm start` runs): the six configurations side by side, a table and a
 * paragraph reading it; with --out DIR also demo.json and demo.md in DIR. Nothing is written
 * without --out: run through npx from any directory, the demo must not leave files behind there
 * (`npm start` passes --out results).
 */
import { join } from 'node:path';
import { Command } from 'commander';
import Table from 'cli-table3';
import { DEMO_CONFIGS, DEMO_DEFAULT_DELAY, demoMarkdown, runDemo, type DemoResult } from '../torture/demo.js';
import { formatRate } from '../torture/rates.js';
import { count as fmt, percent as pct, wrap } from '../torture/format.js';
import { defaultWorkers } from '../torture/runner.js';
import type { DelayPolicy } from '../race/control.js';
import {
  checkOutputDir, delayArg, delayOf, exitAfterOutputFailure, exitForError, intArg, numberArg, pathArg, writeOutputFile, type FlagNames,
} from './args.js';

/** Library option → flag (buckets has no flag: the demo always uses the default). */
const FLAGS: FlagNames = { workers: '--workers', seconds: '--seconds', rounds: '--rounds', seed: '--seed', delay: '--delay', 'delay.points': '--delay' };

interface DemoFlags {
  workers?: number;
  seconds?: number;
  rounds?: number;
  seed?: number;
  delay?: DelayPolicy | 'none';
  out?: string;
}

export function demoTable(d: DemoResult): string {
  const t = new Table({
    style: { head: [], border: [] },
    head: ['configuration', 'allocations', 'duplicate\nallocations', 'rate (95%)', 'lost data /\nmetadata /\nlatent', 'commit errors\n/ fsck', 'allocs/s (median, range)', 'vs early/none', 'ok'],
  });
  for (const r of d.rows) {
    t.push([
      `${r.name}\n${r.what}`,
      fmt(r.allocations),
      r.duplicates > 0 ? `${fmt(r.duplicates)} !!!` : '0',
      formatRate(r.rate).replace(' (95% CI ', '\n(').replace(' (95%, rule of three)', '\n(rule of three)'),
      `${fmt(r.lostData)} / ${fmt(r.metadataOnly)} / ${fmt(r.latent)}`,
      `${fmt(r.commitErrors)} / ${fmt(r.fsckViolations)}`,
      `${fmt(r.throughput.median)}\n(${fmt(r.throughput.min)}–${fmt(r.throughput.max)})`,
      `${pct(r.relative.median)}\n(${pct(r.relative.min)}–${pct(r.relative.max)})`,
      r.asExpected ? 'yes' : 'NO',
    ]);
  }
  return t.toString();
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('the race demonstration: six configurations side by side, race rates and throughput (npm start)')
    .option('--workers <n>', `worker threads (default: 2 × cores = ${defaultWorkers()})`, intArg(2, 64))
    .option('--seconds <s>', 'seconds per configuration per round (default 2.5)', numberArg(0.2, 600))
    .option('--rounds <n>', 'interleaved rounds (default 2)', intArg(1, 100))
    .option('--seed <n>', 'master seed (default: random, printed)', intArg(0, 0xffffffff))
    .option('--delay <spec>', `race-point delay KIND:LENGTH:PROBABILITY or none (default spin:${DEMO_DEFAULT_DELAY.ns / 1000}us:${DEMO_DEFAULT_DELAY.probability})`, delayArg)
    .option('--out <dir>', 'also write demo.json and demo.md into this directory (created if missing; nothing is written without it)', pathArg('directory'))
    .action(async (f: DemoFlags) => {
      process.exitCode = await demoAction(f);
    });
}

async function demoAction(f: DemoFlags): Promise<number> {
  if (f.out !== undefined) {
    try {
      checkOutputDir('--out', f.out);
    } catch (e) {
      return exitForError(e, FLAGS);
    }
  }
  const workers = f.workers ?? defaultWorkers();
  const seconds = f.seconds ?? 2.5;
  const rounds = f.rounds ?? 2;
  console.log(`sab-alloc demo: ${DEMO_CONFIGS.length} configurations × ${rounds} interleaved round(s) × ${seconds} s, ${workers} workers (about ${Math.ceil(DEMO_CONFIGS.length * rounds * (seconds + 0.4))} s)`);
  let result: DemoResult;
  try {
    result = await runDemo({
      workers, seconds, rounds,
      ...(f.seed !== undefined ? { seed: f.seed } : {}),
      ...(f.delay !== undefined ? { delay: delayOf(f.delay) ?? null } : {}),
    }, (done, total, name) => {
      if (name !== '' && process.stdout.isTTY) process.stdout.write(`\r  run ${done + 1}/${total}: ${name.padEnd(20)}`);
    });
  } catch (e) {
    return exitForError(e, FLAGS);
  }
  if (process.stdout.isTTY) process.stdout.write('\r'.padEnd(40) + '\r');
  const p = result.params;
  console.log(`seed ${p.seed}; delay ${p.delay ? `${p.delay.kind} ${p.delay.ns / 1000} µs, probability ${p.delay.probability} ÷ ${p.workers} workers at candidate-read and before-freelist-lock` : 'none'}; ${p.buckets} buckets; ${result.machine.cpu}, ${result.machine.cores} cores, Node ${result.machine.node}`);
  console.log(demoTable(result));
  console.log('');
  console.log(wrap(result.reading, 100));
  const code = result.rows.every((r) => r.asExpected) ? 0 : 1;
  console.log('');
  const took = `${(result.elapsedMs / 1000).toFixed(0)} s`;
  if (f.out === undefined) {
    console.log(`took ${took}; nothing written (--out DIR saves demo.json and demo.md)`);
    return code;
  }
  try {
    const json = writeOutputFile('--out', join(f.out, 'demo.json'), `${JSON.stringify(result, null, 2)}\n`);
    const md = writeOutputFile('--out', join(f.out, 'demo.md'), demoMarkdown(result));
    console.log(`wrote ${json} and ${md} (${took})`);
  } catch (e) {
    return exitAfterOutputFailure(e, code, FLAGS);
  }
  return code;
}
