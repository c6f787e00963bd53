/**
 * Library workers start with flags they can use. Workers inherit the main thread's flags by default,
 * and `--input-type` (which `node --input-type=module -e '…'` and a script piped into
 * `node --input-type=module` need) makes every worker fail with ERR_INPUT_TYPE_NOT_ALLOWED. The
 * pool drops the flags that describe the main program and keeps the rest; a caller can choose the
 * flags and resource limits itself through `workerOptions`.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WorkerPool, workerExecArgv } from '../src/shared/worker-pool.js';
import { reproduceReportedRace } from '../src/race/reproduce.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const INDEX = pathToFileURL(fileURLToPath(new URL('../dist/src/index.js', import.meta.url))).href;
const PROBE = new URL('./fixtures/flags-worker.mjs', import.meta.url);

const SCRIPT = `const { reproduceReportedRace, runLockTorture } = await import(${JSON.stringify(INDEX)});
const r = await reproduceReportedRace();
const l = await runLockTorture({ kind: 'mutex', workers: 2, iterations: 1000 });
console.log(JSON.stringify({ duplicate: r.duplicate, lost: l.lostUpdates, gc: typeof gc }));`;

describe('workers started from `node --input-type=module`', () => {
  it('-e: the library starts its workers (eval and input-type dropped, --expose-gc kept)', () => {
    const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', SCRIPT], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ duplicate: true, lost: 0, gc: 'function' });
  });

  it('a script piped into stdin', () => {
    const r = spawnSync(process.execPath, ['--input-type=module'], { cwd: ROOT, input: SCRIPT, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ duplicate: true, lost: 0 });
  });
});

describe('workerExecArgv', () => {
  it('drops the flags that describe the main program, with their values, and keeps the rest', () => {
    expect(workerExecArgv(['--expose-gc', '--input-type=module', '-e', 'code', '--conditions=dev', '--import', 'tsx'])).toEqual(['--expose-gc', '--conditions=dev', '--import', 'tsx']);
    expect(workerExecArgv(['--input-type', 'module', '--print', '1+1', '--enable-source-maps'])).toEqual(['--enable-source-maps']);
    expect(workerExecArgv(['--check', '--test', '--test-reporter=spec', '--watch-path', 'src', '--no-warnings'])).toEqual(['--no-warnings']);
    // Nothing to drop: undefined, so the worker inherits exactly as Node does by itself.
    expect(workerExecArgv(['--expose-gc', '--max-old-space-size=512'])).toBeUndefined();
    expect(workerExecArgv([])).toBeUndefined();
  });
});

describe('workerOptions', () => {
  it('the pool starts workers with the caller\'s flags and resource limits', async () => {
    const pool = await WorkerPool.start<{ flags(): { execArgv: string[]; resourceLimits: Record<string, number> } }>({
      url: PROBE, count: 1, workerData: () => null, execArgv: ['--no-warnings'], resourceLimits: { maxOldGenerationSizeMb: 48 },
    });
    try {
      const got = await pool.call(0, (r) => r.flags(), 10_000);
      expect(got.execArgv).toEqual(['--no-warnings']);
      expect(got.resourceLimits.maxOldGenerationSizeMb).toBe(48);
    } finally {
      await pool.terminate();
    }
  });

  it('public functions pass them through; flags Node refuses in a worker are named', async () => {
    await expect(reproduceReportedRace({ workerOptions: { execArgv: ['--expose-gc'] } }))
      .rejects.toThrow(/execArgv: Node refuses these flags in a worker: --expose-gc/);
    await expect(WorkerPool.start({ url: PROBE, count: 1, workerData: () => null, execArgv: 'x' as unknown as string[] }))
      .rejects.toThrow(/execArgv: must be an array of strings/);
    const r = await reproduceReportedRace({ workerOptions: { execArgv: [], resourceLimits: { maxOldGenerationSizeMb: 64 } } });
    expect(r.duplicate).toBe(true);
  });
});
