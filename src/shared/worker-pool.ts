/**
 * WorkerPool: spawns real worker_threads and talks to them over Comlink — the control plane only
 * (set up, run, collect, tear down). Hot loops never do RPC: a worker parked in Atomics.wait cannot
 * answer one, so everything hot is driven through shared memory.
 *
 * A Comlink call to a worker that has died never settles. Every call here therefore races the RPC
 * against that worker's `error` and `exit` events and against a timeout, and fails with a
 * WorkerFailure naming the worker. `terminate()` ends every worker the pool spawned and is safe to
 * call twice; tests call it in teardown.
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { checkInt, ConfigError } from './validate.js';
import { watchWorker, type DeathRegistry } from './watch-worker.js';

/** A worker died, threw, or did not answer in time. */
export class WorkerFailure extends Error {
  /** The worker's index in its pool. */
  readonly worker: number;
  /** How it failed: exited, threw, or did not answer in time. */
  readonly kind: 'exit' | 'error' | 'timeout';
  constructor(worker: number, kind: 'exit' | 'error' | 'timeout', message: string) {
    super(`worker ${worker}: ${message}`);
    this.name = 'WorkerFailure';
    this.worker = worker;
    this.kind = kind;
  }
}

/**
 * Where a worker entry's compiled JS lives. Workers always run `dist/**.js` (Node 20 cannot start a
 * `.ts` worker); when the caller itself runs from TypeScript sources (vitest), map src → dist.
 */
export function compiledWorkerUrl(callerUrl: string, relativeJs: string): URL {
  const url = new URL(relativeJs, callerUrl);
  if (!callerUrl.endsWith('.ts')) return url;
  const path = fileURLToPath(url);
  const marker = `${'/'}src${'/'}`;
  const at = path.lastIndexOf(marker);
  if (at < 0) return url;
  const compiled = `${path.slice(0, at)}/dist/src/${path.slice(at + marker.length)}`;
  if (!existsSync(compiled)) {
    throw new Error(`worker entry ${compiled} not found: run \`npm run build\` first (workers load compiled JS from dist/)`);
  }
  return pathToFileURL(compiled);
}

/**
 * How the workers a library call starts are spawned. Every public function that starts workers
 * (reproduceReportedRace, runTorture, runDemo, the lock tortures, the benchmarks) takes these as
 * `workerOptions` and hands them to its WorkerPool.
 */
export interface WorkerSpawnOptions {
  /**
   * Node flags for each worker, used exactly as given. Default: this process's flags minus those a
   * worker cannot start with (see {@link workerExecArgv}).
   */
  execArgv?: readonly string[];
  /** Heap and stack limits for each worker (worker_threads' ResourceLimits). */
  resourceLimits?: ResourceLimits;
}

/** Options of {@link WorkerPool.start}. */
export interface PoolOptions extends WorkerSpawnOptions {
  /** The worker entry: a compiled ES module that calls {@link exposeToParent}. */
  url: URL;
  /** How many workers to start (1 … 1024). */
  count: number;
  /** Structured-cloneable data for worker i (shared buffers travel by reference). */
  workerData: (i: number) => unknown;
  /** How long a worker may take to come up and answer its first call. */
  startTimeoutMs?: number;
  /**
   * Report each worker's death here (a ThreadRegistry, such as `fs.registry`): when a worker exits
   * or dies of an uncaught error, its members are marked dead at once (see {@link watchWorker}), so
   * the robust locks it held are taken over by their waiters instead of timing out. Replacements
   * started by `respawn` are watched too. Recovering the dead members stays the caller's call.
   */
  registry?: DeathRegistry;
}

/**
 * Flags that only make sense for the main thread's own program, with whether the flag takes a
 * value as the next argument. A worker inheriting `--input-type` fails with
 * ERR_INPUT_TYPE_NOT_ALLOWED (its entry is a file), so `node --input-type=module -e '…'`, or a
 * script piped into `node --input-type=module`, could not start any library worker; the eval and
 * print code, `--check`, `--interactive`, the test runner's and watch mode's flags say what the
 * *main* program is and mean nothing (or something wrong) in a worker.
 */
const MAIN_PROGRAM_FLAGS = new Map<string, boolean>([
  ['-e', true], ['--eval', true], ['-p', true], ['--print', true], ['-pe', true],
  ['--input-type', true], ['-c', false], ['--check', false], ['-i', false], ['--interactive', false],
  ['--test', false], ['--test-only', false], ['--watch', false], ['--watch-path', true], ['--watch-preserve-output', false],
]);

function isMainProgramFlag(arg: string): { drop: boolean; takesNext: boolean } {
  const eq = arg.indexOf('=');
  const name = eq > 0 ? arg.slice(0, eq) : arg;
  const takesValue = MAIN_PROGRAM_FLAGS.get(name);
  if (takesValue !== undefined) return { drop: true, takesNext: takesValue && eq < 0 };
  // The test runner's options all start with --test- (reporters, patterns, coverage, …).
  if (name.startsWith('--test-') || name.startsWith('--experimental-test-')) return { drop: true, takesNext: false };
  return { drop: false, takesNext: false };
}

/**
 * The flags library workers start with when the caller gives none: `execArgv` (default
 * `process.execArgv`) without the flags that describe the main program (eval/print code,
 * `--input-type`, `--check`, `--interactive`, test-runner and watch flags). Everything else is
 * kept — loaders (`--import`, `--require`), `--conditions`, `--enable-source-maps`, warnings and
 * tracing options. V8 and process-wide options such as `--expose-gc` or `--max-old-space-size`
 * already apply to every thread of the process; Node refuses them in a worker's own flags, so they
 * are dropped from an explicit list when Node says so (see WorkerPool), and keep their effect.
 *
 * Returns `undefined` when nothing needs dropping: the worker then inherits the flags exactly as
 * Node would do by itself.
 */
export function workerExecArgv(execArgv: readonly string[] = process.execArgv): string[] | undefined {
  const kept: string[] = [];
  let dropped = false;
  for (let i = 0; i < execArgv.length; i++) {
    const { drop, takesNext } = isMainProgramFlag(execArgv[i]!);
    if (!drop) {
      kept.push(execArgv[i]!);
      continue;
    }
    dropped = true;
    if (takesNext) i++;
  }
  return dropped ? kept : undefined;
}

/** The flags Node names in ERR_WORKER_INVALID_EXEC_ARGV ("…invalid execArgv flags: --a, --b=1"). */
function invalidFlags(e: unknown): string[] | null {
  if ((e as { code?: unknown })?.code !== 'ERR_WORKER_INVALID_EXEC_ARGV') return null;
  const m = /flags: (.*)$/.exec((e as Error).message);
  return m === null ? null : m[1]!.split(', ').filter((f) => f.length > 0);
}

/**
 * Starts one worker. With the default flags, options Node refuses in a worker (V8 and per-process
 * options, which already apply to the worker through the process) are dropped and the start is
 * retried once; Node checks the flags before it starts a thread, so nothing runs twice. Flags the
 * caller chose are used as given, and a refusal names them.
 */
function startWorker(url: URL, workerData: unknown, o: WorkerSpawnOptions): Worker {
  const limits = o.resourceLimits === undefined ? {} : { resourceLimits: o.resourceLimits };
  if (o.execArgv !== undefined) {
    try {
      return new Worker(url, { workerData, execArgv: [...o.execArgv], ...limits });
    } catch (e) {
      if (invalidFlags(e) === null) throw e;
      throw new ConfigError('execArgv', `Node refuses these flags in a worker: ${invalidFlags(e)!.join(', ')} (V8 and process-wide options already apply to every thread; leave them out)`);
    }
  }
  const execArgv = workerExecArgv();
  if (execArgv === undefined) return new Worker(url, { workerData, ...limits });
  try {
    return new Worker(url, { workerData, execArgv, ...limits });
  } catch (e) {
    const refused = invalidFlags(e);
    if (refused === null) throw e;
    const names = new Set(refused);
    const kept: string[] = [];
    for (let i = 0; i < execArgv.length; i++) {
      const arg = execArgv[i]!;
      if (!names.has(arg)) {
        kept.push(arg);
        continue;
      }
      // "--stack-size 2000": Node names the flag; its value is the next argument.
      if (!arg.includes('=') && i + 1 < execArgv.length && !execArgv[i + 1]!.startsWith('-')) i++;
    }
    return new Worker(url, { workerData, execArgv: kept, ...limits });
  }
}

/** One started worker: its RPC proxy and how it ended. */
interface PoolWorker<T> {
  worker: Worker;
  remote: Comlink.Remote<T>;
  /** Rejects when the worker exits or errors; never resolves. */
  death: Promise<never>;
  exited: boolean;
  exitCode: number | null;
  error: Error | null;
}

/**
 * Real worker threads running one entry module, each serving an API `T` over Comlink (see
 * {@link exposeToParent}). Every call is bounded: it fails with a WorkerFailure if the worker dies,
 * throws, or does not answer in time.
 */
export class WorkerPool<T> {
  /** Indexed by worker index, the number every call names a worker by. */
  private readonly workers: PoolWorker<T>[] = [];
  private terminated = false;
  private options: PoolOptions | null = null;

  private constructor() {}

  /** Starts `count` workers and waits until each answers a ping (or fails, terminating them all). */
  static async start<T>(options: PoolOptions): Promise<WorkerPool<T>> {
    checkInt('workers', options.count, 1, 1024);
    if (options.execArgv !== undefined && (!Array.isArray(options.execArgv) || !options.execArgv.every((a) => typeof a === 'string'))) {
      throw new ConfigError('execArgv', 'must be an array of strings');
    }
    if (options.registry !== undefined && typeof options.registry?.markThreadDead !== 'function') {
      throw new ConfigError('registry', 'must have a markThreadDead(threadId) method (a ThreadRegistry, such as fs.registry)');
    }
    const pool = new WorkerPool<T>();
    pool.options = options;
    try {
      // Inside the try: a start that fails part-way (refused flags, limits) ends those already started.
      for (let i = 0; i < options.count; i++) pool.spawn(i, options);
      await Promise.all(pool.workers.map((_, i) => pool.call(i, (r) => (r as unknown as { ping(): Promise<number> }).ping(), options.startTimeoutMs ?? 20_000)));
    } catch (e) {
      await pool.terminate();
      throw e;
    }
    return pool;
  }

  /**
   * Starts a fresh worker at index i in place of one that has exited (a crash run's replacement),
   * and waits for it to answer. The old worker must be gone: kill it first.
   */
  async respawn(i: number): Promise<void> {
    const old = this.workers[i];
    if (old === undefined || this.options === null || this.terminated) throw new RangeError(`worker: must be in [0, ${this.workers.length - 1}] of a running pool, got ${i}`);
    if (!old.exited) throw new Error(`worker ${i}: still running; kill it before respawning`);
    this.spawn(i, this.options);
    await this.call(i, (r) => (r as unknown as { ping(): Promise<number> }).ping(), this.options.startTimeoutMs ?? 20_000);
  }

  private spawn(i: number, options: PoolOptions): void {
    const worker = startWorker(options.url, options.workerData(i), options);
    let failWith: (e: Error) => void = () => {};
    const death = new Promise<never>((_, reject) => { failWith = reject; });
    death.catch(() => {});
    const w: PoolWorker<T> = { worker, remote: Comlink.wrap<T>(nodeEndpoint(worker as never)), death, exited: false, exitCode: null, error: null };
    // Registered before the pool's own listeners: by the time a call fails with the worker's death,
    // the death has been reported.
    if (options.registry !== undefined) watchWorker(worker, options.registry);
    worker.on('error', (err) => {
      w.error = err;
      failWith(new WorkerFailure(i, 'error', `threw ${err.stack ?? String(err)}`));
    });
    worker.on('exit', (code) => {
      w.exited = true;
      w.exitCode = code;
      failWith(new WorkerFailure(i, 'exit', `exited with code ${code}${w.error ? ` after ${w.error.message}` : ''}`));
    });
    this.workers[i] = w;
  }

  /** Workers started. */
  get size(): number {
    return this.workers.length;
  }

  /** The worker's thread id (owner ids of its locks are threadId + 1). */
  threadId(i: number): number {
    return this.workers[i]!.worker.threadId;
  }

  /** Whether worker i has not exited. */
  isAlive(i: number): boolean {
    return !this.workers[i]!.exited;
  }

  /** Calls into worker i; fails if it dies, errors, or takes longer than timeoutMs. */
  async call<R>(i: number, fn: (remote: Comlink.Remote<T>) => Promise<R>, timeoutMs: number): Promise<R> {
    const w = this.workers[i];
    if (w === undefined) throw new RangeError(`worker: must be in [0, ${this.workers.length - 1}], got ${i}`);
    if (w.exited) throw new WorkerFailure(i, 'exit', `already exited with code ${w.exitCode}`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new WorkerFailure(i, 'timeout', `no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([fn(w.remote), w.death, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Same call into every worker; settles when all have (first failure rejects). */
  all<R>(fn: (remote: Comlink.Remote<T>, i: number) => Promise<R>, timeoutMs: number): Promise<R[]> {
    return Promise.all(this.workers.map((_, i) => this.call(i, (r) => fn(r, i), timeoutMs)));
  }

  /** Terminates worker i now (a kill in a torture run); resolves once it has exited. */
  async kill(i: number): Promise<void> {
    const w = this.workers[i]!;
    if (!w.exited) await w.worker.terminate();
    w.exited = true;
  }

  /** Terminates every worker; safe to call twice. */
  async terminate(): Promise<void> {
    if (this.terminated) return;
    this.terminated = true;
    // No Comlink releaseProxy here: it waits for an answer that a dead worker never sends.
    await Promise.allSettled(this.workers.map(async (s) => {
      if (!s.exited) await s.worker.terminate();
    }));
  }
}

/** Worker side: serve `api` (which must include `ping`) to the parent over Comlink. */
export function exposeToParent(api: object, port: import('node:worker_threads').MessagePort | null): void {
  if (port === null) throw new Error('exposeToParent: not running in a worker thread');
  Comlink.expose({ ping: () => process.pid, ...api }, nodeEndpoint(port as never));
}
