/**
 * The runtime-independent pool (src/shared/pool.ts) with a made-up adapter whose "workers" are the
 * far ends of MessageChannels in this thread: what the pool promises whatever the runtime — calls
 * answered, a worker's death failing its pending calls at once with a WorkerFailure naming it, a
 * silent worker failing at the timeout, terminate ending every worker once. The Node adapter is
 * exercised by every worker-spawning suite; the web adapter by the browser suite.
 */
import * as Comlink from 'comlink';
import { describe, expect, it } from 'vitest';
import { WorkerFailure, startPool, type WorkerAdapter, type WorkerDeath } from '../src/shared/pool.js';

interface Api { echo(x: number): number; never(): Promise<never> }

function channelAdapter(): { adapter: WorkerAdapter; kill: (i: number, d: WorkerDeath) => void; terminated: number[] } {
  const deaths = new Map<number, (d: WorkerDeath) => void>();
  const terminated: number[] = [];
  const adapter: WorkerAdapter = {
    runtime: 'test',
    spawn(index, workerData) {
      const { port1, port2 } = new MessageChannel();
      const api: Api = { echo: (x) => x + (workerData as number), never: () => new Promise<never>(() => {}) };
      Comlink.expose({ ping: () => index, ...api }, port2 as unknown as Comlink.Endpoint);
      return {
        endpoint: port1 as unknown as Comlink.Endpoint,
        threadId: -1,
        onDeath: (listener) => { deaths.set(index, listener); },
        terminate: async () => { terminated.push(index); port1.close(); port2.close(); },
      };
    },
  };
  return { adapter, kill: (i, d) => deaths.get(i)!(d), terminated };
}

describe('the pool, whatever the runtime', () => {
  it('starts, answers, and ends every worker once', async () => {
    const c = channelAdapter();
    const pool = await startPool<Api>(c.adapter, { count: 3, workerData: (i) => 10 * i });
    expect(pool.size).toBe(3);
    expect(await pool.all((r, i) => r.echo(i), 1_000)).toEqual([0, 11, 22]);
    expect(pool.threadId(0)).toBe(-1);
    await pool.terminate();
    await pool.terminate();
    expect(c.terminated.sort()).toEqual([0, 1, 2]);
  });

  it('a death fails the pending call at once, naming the worker; a silent worker fails at the timeout', async () => {
    const c = channelAdapter();
    const pool = await startPool<Api>(c.adapter, { count: 2, workerData: () => 0 });
    try {
      const pending = pool.call(1, (r) => r.never(), 60_000);
      c.kill(1, { kind: 'error', message: 'threw Error: boom' });
      await expect(pending).rejects.toThrow(new WorkerFailure(1, 'error', 'threw Error: boom'));
      c.kill(0, { kind: 'exit', exitCode: 3, message: 'exited with code 3' });
      expect(pool.isAlive(0)).toBe(false);
      await expect(pool.call(0, (r) => r.echo(1), 1_000)).rejects.toThrow('worker 0: already exited with code 3');
    } finally {
      await pool.terminate();
    }
    const d = channelAdapter();
    const quiet = await startPool<Api>(d.adapter, { count: 1, workerData: () => 0 });
    try {
      await expect(quiet.call(0, (r) => r.never(), 50)).rejects.toMatchObject({ name: 'WorkerFailure', kind: 'timeout', worker: 0 });
    } finally {
      await quiet.terminate();
    }
  });

  it('refuses a worker count out of range, naming it', async () => {
    await expect(startPool(channelAdapter().adapter, { count: 0, workerData: () => 0 })).rejects.toThrow(/workers/);
  });
});
