import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RetryTokenBucket, WorkQueue, backoffDelay, exponentialDelay } from '../../src/runtime/index.ts';

/** Lets resolved promises run. */
const tick = () => new Promise<void>((r) => setImmediate(r));

describe('WorkQueue: dedup and same-key exclusion', () => {
  it('stores a key added twice while it waits only once', async () => {
    const q = new WorkQueue({ name: 'unit-dedup' });
    q.add('a');
    q.add('b');
    q.add('a');
    q.add('a');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(q.length).toBe(0);
    q.done('a');
    q.done('b');
    expect(q.length).toBe(0);
    expect(q.inFlight).toBe(0);
  });

  it('hands out a key re-added while in flight only after done(), exactly once', async () => {
    const q = new WorkQueue({ name: 'unit-exclusion' });
    q.add('a');
    expect(await q.get()).toBe('a');
    q.add('a');
    q.add('a');
    expect(q.length).toBe(0); // not visible to other workers while 'a' is in flight
    expect(q.isQueued('a')).toBe(true);
    let second: string | undefined | null = null;
    void q.get().then((k) => (second = k));
    await tick();
    expect(second).toBeNull(); // a second worker waits instead of getting 'a'
    q.done('a');
    await tick();
    expect(second).toBe('a');
    q.done('a');
    expect(q.length).toBe(0);
    expect(q.isQueued('a')).toBe(false);
  });

  it('keeps FIFO order across many keys', async () => {
    const q = new WorkQueue({ name: 'unit-fifo' });
    for (let i = 0; i < 3000; i++) q.add(`k${i}`);
    for (let i = 0; i < 3000; i++) {
      const k = await q.get();
      expect(k).toBe(`k${i}`);
      q.done(k!);
    }
  });
});

describe('WorkQueue: delays', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('addAfter makes a key available after the delay, and the earliest delay wins', async () => {
    const q = new WorkQueue({ name: 'unit-after' });
    q.addAfter('a', 1000);
    q.addAfter('a', 5000); // later: ignored
    q.addAfter('b', 3000);
    q.addAfter('b', 200); // earlier: wins
    expect(q.length).toBe(0);
    expect(q.delayedCount).toBe(2);
    await vi.advanceTimersByTimeAsync(199);
    expect(q.length).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(q.length).toBe(1);
    expect(await q.get()).toBe('b');
    await vi.advanceTimersByTimeAsync(799);
    expect(q.length).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(await q.get()).toBe('a');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(q.length).toBe(0); // the ignored later delays never fire a second add
    expect(q.delayedCount).toBe(0);
  });

  it('addAfter(0) adds at once', () => {
    const q = new WorkQueue({ name: 'unit-after0' });
    q.addAfter('a', 0);
    expect(q.length).toBe(1);
  });

  it('addRateLimited backs off exponentially per key, forget() resets it', async () => {
    const q = new WorkQueue({
      name: 'unit-backoff',
      backoff: { baseMs: 100, maxMs: 1000, jitter: 0 },
      rateLimit: { qps: Infinity, burst: 1 },
    });
    const delays = [0, 1, 2, 3, 4, 5].map(() => q.addRateLimited('a'));
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(q.numRequeues('a')).toBe(6);
    expect(q.addRateLimited('other')).toBe(100); // per key
    q.forget('a');
    expect(q.numRequeues('a')).toBe(0);
    expect(q.addRateLimited('a')).toBe(100);
  });

  it('the global token bucket spreads retries of many keys', () => {
    const q = new WorkQueue({
      name: 'unit-bucket',
      backoff: { baseMs: 1, maxMs: 1, jitter: 0 },
      rateLimit: { qps: 10, burst: 3 },
    });
    const delays = ['a', 'b', 'c', 'd', 'e', 'f'].map((k) => q.addRateLimited(k));
    expect(delays.slice(0, 3)).toEqual([1, 1, 1]); // burst
    expect(delays.slice(3)).toEqual([100, 200, 300]); // then 10 per second
  });

  it('shutDown stops handing out work; drain waits for keys in flight', async () => {
    const q = new WorkQueue({ name: 'unit-shutdown' });
    q.add('a');
    q.add('b');
    q.addAfter('c', 1000);
    const a = await q.get();
    expect(a).toBe('a');
    let waiterResult: string | undefined | null = null;
    const q2 = new WorkQueue({ name: 'unit-shutdown-waiter' });
    void q2.get().then((k) => (waiterResult = k));
    q2.shutDown();
    await vi.advanceTimersByTimeAsync(0);
    expect(waiterResult).toBeUndefined(); // blocked getters are released

    q.shutDown();
    expect(await q.get()).toBeUndefined(); // 'b' is not handed out any more
    q.add('d');
    expect(q.length).toBe(0); // adds after shutdown are ignored
    let drained: boolean | undefined;
    void q.drain().then((d) => (drained = d));
    await vi.advanceTimersByTimeAsync(5000);
    expect(drained).toBeUndefined(); // 'a' still in flight
    q.done('a');
    await vi.advanceTimersByTimeAsync(0);
    expect(drained).toBe(true);
    expect(q.length).toBe(0); // the delayed 'c' never arrived
  });

  it('drain gives up after its timeout', async () => {
    const q = new WorkQueue({ name: 'unit-drain-timeout' });
    q.add('a');
    await q.get();
    const p = q.shutDownWithDrain(1000);
    await vi.advanceTimersByTimeAsync(1000);
    await expect(p).resolves.toBe(false);
  });

  it('resync re-adds every known key each period', async () => {
    const q = new WorkQueue({ name: 'unit-resync' });
    q.add('a');
    q.add('b');
    for (const k of ['a', 'b']) {
      expect(await q.get()).toBe(k);
      q.done(k);
    }
    q.forgetKey('b');
    q.startResync(60_000);
    await vi.advanceTimersByTimeAsync(59_999);
    expect(q.length).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(q.length).toBe(1);
    expect(await q.get()).toBe('a');
    q.stopResync();
  });
});

describe('backoff', () => {
  it('grows as base·2^n up to the cap', () => {
    const o = { baseMs: 500, maxMs: 60_000 };
    expect([0, 1, 2, 3, 7, 20, 1000].map((n) => exponentialDelay(n, o))).toEqual([
      500, 1000, 2000, 4000, 60_000, 60_000, 60_000,
    ]);
  });

  it('jitter stays within ±jitter of the exponential delay and never exceeds the cap', () => {
    const o = { baseMs: 1000, maxMs: 10_000, jitter: 0.25 };
    expect(backoffDelay(2, o, () => 0)).toBe(3000); // 4000·0.75
    expect(backoffDelay(2, o, () => 0.999999)).toBe(5000); // 4000·1.25
    expect(backoffDelay(5, o, () => 0.999999)).toBe(10_000); // capped
    const seen = new Set<number>();
    for (let n = 0; n < 6; n++) {
      const exp = exponentialDelay(n, o);
      for (let i = 0; i < 500; i++) {
        const d = backoffDelay(n, o);
        expect(d).toBeGreaterThanOrEqual(Math.floor(exp * 0.75));
        expect(d).toBeLessThanOrEqual(Math.min(10_000, Math.ceil(exp * 1.25)));
        if (n === 1) seen.add(d);
      }
    }
    expect(seen.size).toBeGreaterThan(50); // really jittered, not constant
  });

  it('token bucket: burst, then refill at the rate', () => {
    let now = 0;
    const b = new RetryTokenBucket(2, 2, () => now);
    expect([b.reserve(), b.reserve(), b.reserve(), b.reserve()]).toEqual([0, 0, 500, 1000]);
    now = 2000; // refilled 4 tokens worth, capped at burst 2, minus the 2 borrowed
    expect(b.reserve()).toBe(0);
    expect(() => new RetryTokenBucket(0, 1)).toThrow(/rate/);
  });
});
