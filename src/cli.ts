#!/usr/bin/env node
/**
 * The `sab-alloc` command: a thin dispatcher. Each subcommand lives in src/cli/<name>-command.ts
 * and registers itself on the program. Usage errors (unknown flag, bad value, missing argument)
 * exit with code 2 and a message naming the flag.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerTortureCommand } from './cli/torture-command.js';
import { USAGE_EXIT } from './cli/args.js';
import { registerReproduceCommand } from './cli/reproduce-command.js';
import { registerDemoCommand } from './cli/demo-command.js';
import { registerLocksCommand } from './cli/locks-command.js';
import { registerBenchCommand } from './cli/bench-command.js';
import { registerExploreCommand } from './cli/explore-command.js';
import { registerStudyCommand } from './cli/study-command.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = new Command('sab-alloc')
    .description('bcachefs-style bucket allocator in SharedArrayBuffers: reproduce the 2023 duplicate-bucket race with real workers, switch on each fix, measure')
    .version(pkg.version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerDemoCommand(program);
  registerReproduceCommand(program);
  registerTortureCommand(program);
  registerLocksCommand(program);
  registerBenchCommand(program);
  registerExploreCommand(program);
  registerStudyCommand(program);
  for (const c of program.commands) c.exitOverride().showHelpAfterError('(run with --help for usage)');
  return program;
}

async function main(): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version "fail" with exit code 0; everything else is a usage error.
      process.exitCode = e.exitCode === 0 ? 0 : USAGE_EXIT;
      return;
    }
    throw e;
  }
}

await main();
