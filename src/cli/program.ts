/**
 * The `sab-alloc` program: every subcommand registered on one commander Command. Kept apart from
 * the executable (src/cli.ts) so tests can inspect the commands and flags without running one.
 */
import { Command } from 'commander';
import { registerTortureCommand } from './torture-command.js';
import { registerReproduceCommand } from './reproduce-command.js';
import { registerDemoCommand } from './demo-command.js';
import { registerLockTortureCommand } from './lock-torture-command.js';
import { registerBenchCommand } from './bench-command.js';
import { registerExploreCommand } from './explore-command.js';
import { registerStudyCommand } from './study-command.js';

export function buildProgram(version: string): Command {
  const program = new Command('sab-alloc')
    .description('bcachefs-style bucket allocator in SharedArrayBuffers: reproduce the 2023 duplicate-bucket race with real workers, switch on each fix, measure')
    .version(version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerDemoCommand(program);
  registerReproduceCommand(program);
  registerTortureCommand(program);
  registerLockTortureCommand(program);
  registerBenchCommand(program);
  registerExploreCommand(program);
  registerStudyCommand(program);
  for (const c of program.commands) c.exitOverride().showHelpAfterError('(run with --help for usage)');
  return program;
}
