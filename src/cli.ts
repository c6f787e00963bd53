#!/usr/bin/env node
/**
 * The `sab-alloc` command: a thin dispatcher. Each subcommand lives in src/cli/<name>-command.ts
 * and registers itself on the program (src/cli/program.ts). Usage errors (unknown flag, bad value,
 * missing argument) exit with code 2 and a message naming the flag.
 */
import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
import { USAGE_EXIT } from './cli/args.js';
import { buildProgram } from './cli/program.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

async function main(): Promise<void> {
  const program = buildProgram(pkg.version);
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
