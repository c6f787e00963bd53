/**
 * The pool's web adapter: each worker is a module Web `Worker` (a browser's, or any runtime with a
 * web-compatible `Worker`). Environment-neutral code: it names no Node module and no DOM type; it
 * needs only a `Worker` that the caller constructs.
 *
 * Why the caller constructs it: a bundler finds a worker entry only in the literal
 * `new Worker(new URL('./entry.ts', import.meta.url), { type: 'module' })` at the place that spawns
 * it, and bundles the entry from there. A library that built the URL itself would hide the entry
 * from the bundler. So `webWorkers(() => new Worker(new URL(…), { type: 'module' }))` takes a factory.
 *
 * What the web does not give: a thread id (threadId is -1; owner ids come from setOwnerId, see
 * exposeToHost), an exit event (a worker that ends quietly is seen as a call that times out), and
 * `workerData` at start (it travels as the first message, which exposeToHost answers before
 * anything else).
 */
import * as Comlink from 'comlink';
import { setOwnerId } from '../locks/common.js';
import { withPing, type SpawnedWorker, type WorkerAdapter } from './pool.js';

/** The parts of a Web Worker the adapter uses (DOM's `Worker` has them all). */
export interface WebWorkerLike extends Comlink.Endpoint {
  /** Ends the worker at once. */
  terminate(): void;
}

/** The first message a web-adapter worker gets: its index and workerData. */
interface Hello {
  sabAllocWorker: { index: number; data: unknown };
}

/**
 * The web adapter. `create(index)` returns a new module Worker running the entry, which calls
 * {@link exposeToHost}. Uncaught errors in the worker are reported as its death.
 */
export function webWorkers(create: (index: number) => WebWorkerLike): WorkerAdapter {
  return {
    runtime: 'web',
    spawn(index: number, workerData: unknown): SpawnedWorker {
      const worker = create(index);
      const hello: Hello = { sabAllocWorker: { index, data: workerData ?? null } };
      worker.postMessage(hello);
      return {
        endpoint: worker,
        threadId: -1,
        onDeath(listener) {
          // An ErrorEvent from a worker script carries message, filename and line; a failed module
          // load carries none of them.
          const onError = (ev: unknown): void => {
            const e = ev as { message?: string; filename?: string; lineno?: number; preventDefault?: () => void };
            e.preventDefault?.();
            const where = e.filename ? ` (${e.filename}:${e.lineno ?? 0})` : '';
            listener({ kind: 'error', message: `threw ${e.message ?? 'an error, or its module failed to load'}${where}` });
          };
          worker.addEventListener('error', onError as never);
          worker.addEventListener('messageerror', (() => listener({ kind: 'error', message: 'sent a message that could not be deserialised' })) as never);
        },
        async terminate() {
          worker.terminate();
        },
      };
    },
  };
}

/** What exposeToHost learnt from the host's first message. */
export interface WebWorkerStart {
  /** The worker's index in its pool. */
  index: number;
  /** The pool's workerData(index). */
  data: unknown;
}

interface WorkerScope {
  addEventListener(type: 'message', listener: (ev: { data: unknown }) => void): void;
  removeEventListener(type: 'message', listener: (ev: { data: unknown }) => void): void;
}

/**
 * Worker side (web): serve `api` to the host over Comlink. Resolves with the worker's index and
 * workerData once the host's first message has come. The worker's lock owner id becomes
 * `ownerIdBase + index` (default 2 + index: 1 is left for the page's main thread), so that no two
 * workers of one pool share an id — the web has no thread id to derive one from.
 */
export function exposeToHost(api: object, options: { ownerIdBase?: number } = {}): Promise<WebWorkerStart> {
  const scope = globalThis as unknown as WorkerScope & Comlink.Endpoint;
  return new Promise((resolve) => {
    const first = (ev: { data: unknown }): void => {
      const hello = (ev.data as Partial<Hello> | null)?.sabAllocWorker;
      if (hello === undefined) return;
      scope.removeEventListener('message', first);
      setOwnerId((options.ownerIdBase ?? 2) + hello.index);
      resolve({ index: hello.index, data: hello.data });
    };
    scope.addEventListener('message', first);
    Comlink.expose(withPing(api, () => 'web'), scope);
  });
}
