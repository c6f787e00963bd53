/**
 * The worker pool, environment-neutral: real threads running one entry module, each serving an API
 * over Comlink — the control plane only (set up, run, collect, tear down). Hot loops never do RPC:
 * a worker parked in Atomics.wait cannot answer one, so everything hot goes through shared memory.
 *
 * What differs between runtimes — how a thread is started, how its death is seen, how it is ended —
 * sits behind {@link WorkerAdapter}. Two adapters exist: Node's worker_threads (worker-pool.ts, the
 * only file under src/shared that imports `node:*`) and the web's `Worker` (pool-web.ts). Comlink
 * speaks to both: a web Worker is a Comlink endpoint as it is, a Node Worker through comlink's
 * node adapter.
 *
 * A Comlink call to a worker that has died never settles. Every call here therefore races the RPC
 * against that worker's death (as its adapter reports it) and against a timeout, and fails with a
 * WorkerFailure naming the worker. `terminate()` ends every worker the pool started and is safe to
 * call twice; tests call it in teardown.
 */
import * as Comlink from 'comlink';
import { checkInt } from './validate.js';

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

/** How a started worker ended, as its adapter saw it. */
export interface WorkerDeath {
  kind: 'exit' | 'error';
  /** One line: the exit code, or the error's stack. */
  message: string;
  /** The exit code, for kind 'exit' where the runtime has one. */
  exitCode?: number | null;
}

/** One thread an adapter started. */
export interface SpawnedWorker {
  /** What Comlink talks over. */
  readonly endpoint: Comlink.Endpoint;
  /** The runtime's thread id (Node's worker.threadId), or -1 where the runtime has none (the web). */
  readonly threadId: number;
  /**
   * Calls `listener` when the worker ends by itself: 'error' when an uncaught error ends it, 'exit'
   * when its thread has exited (Node reports both, error first). A web Worker has no exit event; its
   * adapter reports uncaught errors only, and a worker that ends quietly shows up as a call that
   * times out.
   */
  onDeath(listener: (death: WorkerDeath) => void): void;
  /** Ends the thread; resolves once it has ended (or, on the web, once it has been told to). */
  terminate(): Promise<void>;
}

/**
 * What a runtime provides to the pool: start worker `index` running `url` with `workerData` (a
 * structured-cloneable value; shared buffers travel by reference). Node: worker-pool.ts's
 * nodeWorkers(); the web: pool-web.ts's webWorkers().
 */
export interface WorkerAdapter {
  /** The runtime, for messages ("node", "web"). */
  readonly runtime: string;
  /** Starts worker `index` with `workerData`; it answers Comlink calls once its entry has run. */
  spawn(index: number, workerData: unknown): SpawnedWorker;
}

/** Options of {@link startPool}. */
export interface StartPoolOptions {
  /** How many workers to start (1 … 1024). */
  count: number;
  /** Structured-cloneable data for worker i. */
  workerData: (i: number) => unknown;
  /** How long a worker may take to come up and answer its first call. */
  startTimeoutMs?: number;
}

/** One started worker: its RPC proxy and how it ended. */
interface PoolWorker<T> {
  spawned: SpawnedWorker;
  remote: Comlink.Remote<T>;
  /** Rejects when the worker dies; never resolves. */
  death: Promise<never>;
  exited: boolean;
  exitCode: number | null;
}

type Ping = { ping(): Promise<unknown> };

/**
 * Workers of one adapter, each serving an API `T` over Comlink (see exposeToParent / exposeToHost).
 * Every call is bounded: it fails with a WorkerFailure if the worker dies, throws, or does not answer
 * in time.
 */
export class Pool<T> {
  /** Indexed by worker index, the number every call names a worker by. */
  private readonly workers: PoolWorker<T>[] = [];
  private terminated = false;
  protected readonly adapter: WorkerAdapter;
  protected readonly options: StartPoolOptions;

  constructor(adapter: WorkerAdapter, options: StartPoolOptions) {
    this.adapter = adapter;
    this.options = options;
  }

  /** @internal Starts every worker and waits for each to answer a ping (or fails, ending them all). */
  async startAll(): Promise<this> {
    checkInt('workers', this.options.count, 1, 1024);
    try {
      // Inside the try: a start that fails part-way (refused flags, limits) ends those already started.
      for (let i = 0; i < this.options.count; i++) this.spawn(i);
      await Promise.all(this.workers.map((_, i) => this.ping(i)));
    } catch (e) {
      await this.terminate();
      throw e;
    }
    return this;
  }

  private ping(i: number): Promise<unknown> {
    return this.call(i, (r) => (r as unknown as Ping).ping(), this.options.startTimeoutMs ?? 20_000);
  }

  private spawn(i: number): void {
    const spawned = this.adapter.spawn(i, this.options.workerData(i));
    let failWith: (e: Error) => void = () => {};
    const death = new Promise<never>((_, reject) => { failWith = reject; });
    death.catch(() => {});
    const w: PoolWorker<T> = { spawned, remote: Comlink.wrap<T>(spawned.endpoint), death, exited: false, exitCode: null };
    spawned.onDeath((d) => {
      if (d.kind === 'exit') {
        w.exited = true;
        w.exitCode = d.exitCode ?? null;
      }
      failWith(new WorkerFailure(i, d.kind, d.message));
    });
    this.workers[i] = w;
  }

  /**
   * Starts a fresh worker at index i in place of one that has exited (a crash run's replacement),
   * and waits for it to answer. The old worker must be gone: kill it first.
   */
  async respawn(i: number): Promise<void> {
    const old = this.workers[i];
    if (old === undefined || this.terminated) throw new RangeError(`worker: must be in [0, ${this.workers.length - 1}] of a running pool, got ${i}`);
    if (!old.exited) throw new Error(`worker ${i}: still running; kill it before respawning`);
    this.spawn(i);
    await this.ping(i);
  }

  /** Workers started. */
  get size(): number {
    return this.workers.length;
  }

  /** The worker's runtime thread id (Node: owner ids of its locks are threadId + 1; the web: -1). */
  threadId(i: number): number {
    return this.workers[i]!.spawned.threadId;
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
    let timer: ReturnType<typeof setTimeout> | undefined;
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
    if (!w.exited) await w.spawned.terminate();
    w.exited = true;
  }

  /** Terminates every worker; safe to call twice. */
  async terminate(): Promise<void> {
    if (this.terminated) return;
    this.terminated = true;
    // No Comlink releaseProxy here: it waits for an answer that a dead worker never sends.
    await Promise.allSettled(this.workers.map(async (w) => {
      if (!w.exited) await w.spawned.terminate();
      w.exited = true;
    }));
  }
}

/** Starts `count` workers through `adapter` and waits until each answers a ping. */
export function startPool<T>(adapter: WorkerAdapter, options: StartPoolOptions): Promise<Pool<T>> {
  return new Pool<T>(adapter, options).startAll();
}

/** The worker side's ping answer, shared by both runtimes' expose helpers. */
export function withPing(api: object, id: () => unknown): object {
  return { ping: id, ...api };
}
