/**
 * The README and docs/*.md say only what is true:
 *
 *   - every example marked `<!-- example: examples/x.mjs -->` is that file, verbatim (importing the
 *     package by name instead of the build), runs, and prints the output marked
 *     `<!-- output: examples/x.mjs -->` exactly;
 *   - the sample `sab-alloc reproduce` output is what the command prints (the run is scripted, so it
 *     is the same every time);
 *   - every command line in a shell block names an npm script, a file, or a `sab-alloc` command and
 *     flags that exist.
 *
 * The mutual-exclusion property the Mutex example shows is tested, with its negative control, in
 * lock-torture.test.ts (the example has no start barrier, so an unlocked variant need not fail).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { buildProgram } from '../src/cli/program.js';
import { ROOT, blocks, docFiles, markedBlock, markers } from './support/doc-blocks.js';

const CLI = join(ROOT, 'dist', 'src', 'cli.js');

const examples = docFiles().flatMap((file) => markers(file, 'example').map((example) => ({ file, example })));

describe('examples in the README and docs', () => {
  it('are there: the library example in the README, the Mutex example in docs/locks.md', () => {
    expect(examples).toContainEqual({ file: 'README.md', example: 'examples/race.mjs' });
    expect(examples).toContainEqual({ file: 'docs/locks.md', example: 'examples/mutex.mjs' });
  });

  for (const { file, example } of examples) {
    it(`${file}: ${example} is the block shown, runs, and prints the output shown`, () => {
      const source = readFileSync(join(ROOT, example), 'utf8').replace("from '../dist/src/index.js'", "from 'sab-alloc'");
      expect(markedBlock(file, `example: ${example}`, 'js')).toBe(source);
      const r = spawnSync(process.execPath, [example], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(markers(file, 'output')).toContain(example);
      expect(r.stdout).toBe(markedBlock(file, `output: ${example}`, ''));
    });
  }
});

describe('sample output', () => {
  it('`sab-alloc reproduce` prints the trace docs/torture.md and the README show', () => {
    const r = spawnSync(process.execPath, [CLI, 'reproduce'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    // fsck lists its findings in extent-id order, and ids depend on which worker attached first.
    const norm = (text: string): string => text.replace(/^fsck: (.*)$/m, (_, list: string) => `fsck: ${list.split(', ').sort().join(', ')}`);
    expect(norm(r.stdout)).toBe(norm(markedBlock('docs/torture.md', 'output: sab-alloc reproduce', '')));
    expect(norm(markedBlock('README.md', 'output: sab-alloc reproduce', ''))).toBe(norm(r.stdout));
  });
});

describe('command lines in the README and docs', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const program = buildProgram('0.0.0');
  const command = (name: string): Command | undefined => program.commands.find((c) => c.name() === name || c.aliases().includes(name));

  /** Problems with one `sab-alloc CMD args…` invocation. */
  function checkCli(args: string[], where: string): string[] {
    const [name, ...rest] = args;
    if (name === '--help' || name === '--version' || name === '-V') return [];
    let cmd = command(name ?? '');
    if (cmd === undefined) return [`${where}: no command "${name}"`];
    // A command with subcommands (`study cursor`): the next word names one.
    while (cmd.commands.length > 0 && rest.length > 0 && !rest[0]!.startsWith('-')) {
      const sub: Command | undefined = cmd.commands.find((c) => c.name() === rest[0]);
      if (sub === undefined) return [`${where}: ${name} has no subcommand "${rest[0]}"`];
      cmd = sub;
      rest.shift();
    }
    const flags = new Set(['--help', '-h', ...cmd.options.flatMap((o) => [o.long, o.short]).filter((f): f is string => f !== undefined)]);
    return rest.filter((a) => a.startsWith('-')).map((a) => a.split('=')[0]!).filter((f) => !flags.has(f)).map((f) => `${where}: ${name} has no flag ${f}`);
  }

  function checkLine(line: string, where: string): string[] {
    const words = line.replace(/^(\w+=\S+\s+)+/, '').split(/\s+/).filter((w) => w.length > 0);
    if (words.length === 0) return [];
    const [exe, ...args] = words;
    if (exe === 'sab-alloc') return checkCli(args, where);
    if (exe === 'npx' && args[0] === 'sab-alloc') return checkCli(args.slice(1), where);
    if (exe === 'node') {
      if (args[0] === 'dist/src/cli.js') return checkCli(args.slice(1), where);
      return existsSync(join(ROOT, args[0] ?? '')) ? [] : [`${where}: no file ${args[0]}`];
    }
    if (exe === 'npm') {
      const [verb, ...more] = args;
      if (verb === 'ci' || verb === 'install' || verb === 'test' && more.length === 0) return [];
      const script = verb === 'run' ? more[0] : verb;
      const extra = verb === 'run' ? more.slice(1) : more;
      const body = pkg.scripts[script ?? ''];
      if (body === undefined) return [`${where}: no npm script "${script}"`];
      // npm's own flags (--silent) come first; what follows a lone -- goes to the script.
      const dash = extra.indexOf('--');
      const own = dash < 0 ? extra : extra.slice(0, dash);
      const passed = dash < 0 ? [] : extra.slice(dash + 1);
      if (own.some((a) => !a.startsWith('-'))) return [`${where}: arguments to an npm script need --`];
      const cli = / dist\/src\/cli\.js (\S+)/.exec(body);
      return cli === null ? (passed.length > 0 ? [`${where}: ${script} takes no arguments`] : []) : checkCli([cli[1]!, ...passed], where);
    }
    return [`${where}: unknown command ${exe}`];
  }

  it('name scripts, files, commands and flags that exist', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const file of docFiles()) {
      for (const block of blocks(file, 'sh')) {
        for (const raw of block.split('\n')) {
          const line = raw.replace(/\s#.*$/, '').replace(/^#.*$/, '').trim();
          for (const part of line.split('&&')) {
            problems.push(...checkLine(part.trim(), `${file}: ${part.trim()}`));
            if (part.trim() !== '') checked++;
          }
        }
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(20);
  });

  it('the checker itself catches a flag that does not exist', () => {
    expect(checkLine('node dist/src/cli.js torture --max-extent-sectors 4', 'x')).toEqual(['x: torture has no flag --max-extent-sectors']);
    expect(checkLine('npm run bench:locks -- --bogus', 'x')).toEqual(['x: bench has no flag --bogus']);
    expect(checkLine('npm run nope', 'x')).toEqual(['x: no npm script "nope"']);
  });
});
