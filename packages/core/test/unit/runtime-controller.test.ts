import { afterEach, describe, expect, it, vi } from 'vitest';
import { metricsRegistry } from '../../src/metrics.ts';
import { Controller, TerminalError, classifyError, type ReconcileResult } from '../../src/runtime/index.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await sleep(2);
  }
}

async function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  const m = await metricsRegistry.getSingleMetric(name)?.get();
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}

describe('Controller', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs at most N reconciles at once, never two on the same key, and re-runs a key re-added meanwhile', async () => {
    let active = 0;
    let maxActive = 0;
    const activeKeys = new Set<string>();
    let overlaps = 0;
    const runs = new Map<string, number>();
    const c = new Controller({
      name: 'unit-concurrency',
      workers: 3,
      reconcile: async (key) => {
        if (activeKeys.has(key)) overlaps++;
        activeKeys.add(key);
        active++;
        maxActive = Math.max(maxActive, active);
        runs.set(key, (runs.get(key) ?? 0) + 1);
        await sleep(3);
        active--;
        activeKeys.delete(key);
      },
    });
    c.start();
    for (let i = 0; i < 30; i++) c.enqueue(`k${i % 10}`); // 10 keys, each added 3 times
    await until(() => c.queue.length === 0 && c.queue.inFlight === 0);
    // while k0 is in flight, add it again twice: exactly one more run
    c.enqueue('hot');
    await until(() => c.queue.inFlight > 0 || (runs.get('hot') ?? 0) > 0);
    c.enqueue('hot');
    c.enqueue('hot');
    await until(() => c.queue.length === 0 && c.queue.inFlight === 0);
    await sleep(20);
    await c.stop();
    expect(maxActive).toBe(3);
    expect(overlaps).toBe(0);
    // dedup: 3 adds of a waiting key ran it once or, if it was picked up in between, twice
    for (let i = 0; i < 10; i++) expect(runs.get(`k${i}`)).toBeLessThanOrEqual(2);
    expect(runs.get('hot')).toBe(2);
  });

  it('requeueAfter reconciles the key again after the delay', async () => {
    vi.useFakeTimers();
    const times: number[] = [];
    const c = new Controller({
      name: 'unit-requeue-after',
      workers: 1,
      reconcile: async (): Promise<ReconcileResult> => {
        times.push(Date.now());
        return times.length < 3 ? { requeueAfter: 30_000 } : undefined;
      },
    });
    c.start();
    c.enqueue('a');
    await vi.advanceTimersByTimeAsync(0);
    expect(times).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(29_999);
    expect(times).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(times).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(times).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(times).toHaveLength(3);
    expect(await metricValue('kube_iaas_reconcile_total', { controller: 'unit-requeue-after', result: 'requeue_after' })).toBe(2);
    expect(await metricValue('kube_iaas_reconcile_total', { controller: 'unit-requeue-after', result: 'success' })).toBe(1);
    await c.stop();
  });

  it('retries errors with growing backoff and resets it after a success', async () => {
    vi.useFakeTimers();
    const attempts: { at: number; attempt: number }[] = [];
    const start = Date.now();
    const c = new Controller({
      name: 'unit-retry',
      workers: 1,
      backoff: { baseMs: 1000, maxMs: 60_000, jitter: 0 },
      reconcile: async (_key, ctx) => {
        attempts.push({ at: Date.now() - start, attempt: ctx.attempt });
        if (attempts.length <= 3) throw new Error('AWS said no');
      },
    });
    c.start();
    c.enqueue('a');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(attempts).toEqual([
      { at: 0, attempt: 0 },
      { at: 1000, attempt: 1 },
      { at: 3000, attempt: 2 },
      { at: 7000, attempt: 3 },
    ]);
    expect(c.queue.numRequeues('a')).toBe(0); // success forgot the failures
    expect(await metricValue('kube_iaas_reconcile_errors_total', { controller: 'unit-retry', kind: 'retryable' })).toBe(3);
    await c.stop();
  });

  it('waits at least retryAfterMs for throttled errors', async () => {
    vi.useFakeTimers();
    const at: number[] = [];
    const start = Date.now();
    const c = new Controller({
      name: 'unit-retry-after',
      workers: 1,
      backoff: { baseMs: 10, maxMs: 100, jitter: 0 },
      reconcile: async () => {
        at.push(Date.now() - start);
        if (at.length === 1) throw Object.assign(new Error('Rate exceeded'), { kind: 'throttled', retryAfterMs: 5000 });
      },
    });
    c.start();
    c.enqueue('a');
    await vi.advanceTimersByTimeAsync(4999);
    expect(at).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1);
    expect(at).toEqual([0, 5000]);
    await c.stop();
  });

  it('records terminal errors without retrying them', async () => {
    vi.useFakeTimers();
    let calls = 0;
    const c = new Controller({
      name: 'unit-terminal',
      workers: 1,
      backoff: { baseMs: 10, maxMs: 100 },
      reconcile: async () => {
        calls++;
        throw Object.assign(new Error('InvalidParameterValue: bad subnet'), { kind: 'terminal', code: 'InvalidParameterValue' });
      },
    });
    c.start();
    c.enqueue('a');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toBe(1);
    expect(await metricValue('kube_iaas_reconcile_total', { controller: 'unit-terminal', result: 'terminal' })).toBe(1);
    c.enqueue('a'); // the object changed: try again
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(2);
    await c.stop();
  });

  it('stop() takes no new work and waits for reconciles in flight', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const started: string[] = [];
    const finished: string[] = [];
    const c = new Controller({
      name: 'unit-stop',
      workers: 1,
      reconcile: async (key) => {
        started.push(key);
        await gate;
        finished.push(key);
      },
    });
    c.start();
    c.enqueue('a');
    c.enqueue('b');
    await until(() => started.length === 1);
    let stopped = false;
    const stopping = c.stop(5000).then((r) => {
      stopped = true;
      return r;
    });
    await sleep(20);
    expect(stopped).toBe(false); // 'a' still running
    c.enqueue('c');
    release();
    expect(await stopping).toBe(true);
    expect(finished).toEqual(['a']);
    expect(started).toEqual(['a']); // 'b' and 'c' were not taken after stop
    expect(c.running).toBe(false);
  });

  it('after a restart (new leader term) it re-enqueues the resync keys', async () => {
    const seen: string[] = [];
    const c = new Controller({
      name: 'unit-restart',
      workers: 2,
      resyncKeys: () => ['x', 'y'],
      reconcile: async (key) => {
        seen.push(key);
      },
    });
    c.start();
    await until(() => seen.length === 2);
    await c.stop();
    c.start();
    await until(() => seen.length === 4);
    await c.stop();
    expect(seen.sort()).toEqual(['x', 'x', 'y', 'y']);
  });
});

describe('classifyError', () => {
  it('reads kind and retryAfterMs from the error or its cause, defaulting to retryable', () => {
    expect(classifyError(new Error('boom'))).toMatchObject({ kind: 'retryable', terminal: false, message: 'boom' });
    expect(classifyError(new TerminalError('bad spec'))).toMatchObject({ kind: 'terminal', terminal: true });
    expect(classifyError({ kind: 'throttled', retryAfterMs: 2000, message: 'slow down' })).toEqual({
      kind: 'throttled',
      terminal: false,
      retryAfterMs: 2000,
      message: 'slow down',
    });
    const wrapped = new Error('reconcile failed', { cause: { kind: 'conflict', message: 'DependencyViolation' } });
    expect(classifyError(wrapped)).toMatchObject({ kind: 'conflict', terminal: false });
    expect(classifyError({ retryAfterMs: 10 })).toMatchObject({ kind: 'throttled', retryAfterMs: 10 });
    expect(classifyError('a string')).toMatchObject({ kind: 'retryable', message: 'a string' });
  });
});
