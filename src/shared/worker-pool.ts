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
import { Worker } from 'node:worker_threads';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { checkInt } from './validate.js';

/** A worker died, threw, or did not answer in time. */
export class WorkerFailure extends Error {
  readonly worker: number;
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

export interface PoolOptions {
  url: URL;
  count: number;
  /** Structured-cloneable data for worker i (shared buffers travel by reference). */
  workerData: (i: number) => unknown;
  /** How long a worker may take to come up and answer its first call. */
  startTimeoutMs?: number;
}

interface Slot<T> {
  worker: Worker;
  remote: Comlink.Remote<T>;
  /** Rejects when the worker exits or errors; never resolves. */
  death: Promise<never>;
  exited: boolean;
  exitCode: number | null;
  error: Error | null;
}

export class WorkerPool<T> {
  private readonly slots: Slot<T>[] = [];
  private terminated = false;
  private options: PoolOptions | null = null;

  private constructor() {}

  static async start<T>(options: PoolOptions): Promise<WorkerPool<T>> {
    checkInt('workers', options.count, 1, 1024);
    const pool = new WorkerPool<T>();
    pool.options = options;
    for (let i = 0; i < options.count; i++) pool.spawn(i, options);
    try {
      await Promise.all(pool.slots.map((_, i) => pool.call(i, (r) => (r as unknown as { ping(): Promise<number> }).ping(), options.startTimeoutMs ?? 20_000)));
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
    const old = this.slots[i];
    if (old === undefined || this.options === null || this.terminated) throw new RangeError(`worker: must be in [0, ${this.slots.length - 1}] of a running pool, got ${i}`);
    if (!old.exited) throw new Error(`worker ${i}: still running; kill it before respawning`);
    this.spawn(i, this.options);
    await this.call(i, (r) => (r as unknown as { ping(): Promise<number> }).ping(), this.options.startTimeoutMs ?? 20_000);
  }

  private spawn(i: number, options: PoolOptions): void {
    const worker = new Worker(options.url, { workerData: options.workerData(i) });
    let failWith: (e: Error) => void = () => {};
    const death = new Promise<never>((_, reject) => { failWith = reject; });
    death.catch(() => {});
    const slot: Slot<T> = { worker, remote: Comlink.wrap<T>(nodeEndpoint(worker as never)), death, exited: false, exitCode: null, error: null };
    worker.on('error', (err) => {
      slot.error = err;
      failWith(new WorkerFailure(i, 'error', `threw ${err.stack ?? String(err)}`));
    });
    worker.on('exit', (code) => {
      slot.exited = true;
      slot.exitCode = code;
      failWith(new WorkerFailure(i, 'exit', `exited with code ${code}${slot.error ? ` after ${slot.error.message}` : ''}`));
    });
    this.slots[i] = slot;
  }

  get size(): number {
    return this.slots.length;
  }

  /** The worker's thread id (owner ids of its locks are threadId + 1). */
  threadId(i: number): number {
    return this.slots[i]!.worker.threadId;
  }

  isAlive(i: number): boolean {
    return !this.slots[i]!.exited;
  }

  /** Calls into worker i; fails if it dies, errors, or takes longer than timeoutMs. */
  async call<R>(i: number, fn: (remote: Comlink.Remote<T>) => Promise<R>, timeoutMs: number): Promise<R> {
    const slot = this.slots[i];
    if (slot === undefined) throw new RangeError(`worker: must be in [0, ${this.slots.length - 1}], got ${i}`);
    if (slot.exited) throw new WorkerFailure(i, 'exit', `already exited with code ${slot.exitCode}`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new WorkerFailure(i, 'timeout', `no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([fn(slot.remote), slot.death, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Same call into every worker; settles when all have (first failure rejects). */
  all<R>(fn: (remote: Comlink.Remote<T>, i: number) => Promise<R>, timeoutMs: number): Promise<R[]> {
    return Promise.all(this.slots.map((_, i) => this.call(i, (r) => fn(r, i), timeoutMs)));
  }

  /** Terminates worker i now (a kill in a torture run); resolves once it has exited. */
  async kill(i: number): Promise<void> {
    const slot = this.slots[i]!;
    if (!slot.exited) await slot.worker.terminate();
    slot.exited = true;
  }

  async terminate(): Promise<void> {
    if (this.terminated) return;
    this.terminated = true;
    // No Comlink releaseProxy here: it waits for an answer that a dead worker never sends.
    await Promise.allSettled(this.slots.map(async (s) => {
      if (!s.exited) await s.worker.terminate();
    }));
  }
}

/** Worker side: serve `api` (which must include `ping`) to the parent over Comlink. */
export function exposeToParent(api: object, port: import('node:worker_threads').MessagePort | null): void {
  if (port === null) throw new Error('exposeToParent: not running in a worker thread');
  Comlink.expose({ ping: () => process.pid, ...api }, nodeEndpoint(port as never));
}
