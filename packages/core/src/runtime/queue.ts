import { DEFAULT_BACKOFF, RetryTokenBucket, backoffDelay, type BackoffOptions } from './backoff.ts';
import { liveQueues, runtimeMetrics } from './metrics.ts';

export interface WorkQueueOptions {
  /** Label of the queue's metrics (usually the controller name). */
  name: string;
  /** Per-key exponential backoff for `addRateLimited`. Default 1s … 5m, jitter 0.2. */
  backoff?: Partial<BackoffOptions>;
  /**
   * Global token bucket for `addRateLimited` (retries and requeues after errors), so a failure of
   * every key at once (AWS outage) does not turn into a retry storm. Default 10/s, burst 100.
   */
  rateLimit?: { qps: number; burst: number };
  /** Random source in [0, 1) for jitter (tests pin it). */
  random?: () => number;
}

/** FIFO of keys with O(1) push/shift. */
class Fifo {
  #items: (string | undefined)[] = [];
  #head = 0;
  get length(): number {
    return this.#items.length - this.#head;
  }
  push(key: string): void {
    this.#items.push(key);
  }
  shift(): string | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const key = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return key;
  }
  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}

interface Delayed {
  key: string;
  at: number;
}

/** Binary min-heap on `at`; stale entries are skipped by the caller. */
class DelayHeap {
  #a: Delayed[] = [];
  get size(): number {
    return this.#a.length;
  }
  peek(): Delayed | undefined {
    return this.#a[0];
  }
  push(d: Delayed): void {
    const a = this.#a;
    a.push(d);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]!.at <= a[i]!.at) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }
  pop(): Delayed | undefined {
    const a = this.#a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]!.at < a[m]!.at) m = l;
        if (r < a.length && a[r]!.at < a[m]!.at) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
  clear(): void {
    this.#a = [];
  }
}

/**
 * A keyed work queue in the style of client-go's workqueue:
 *
 * - a key added while it already waits is stored once (dedup);
 * - a key added while a worker processes it is queued again after `done(key)`, never handed to a
 *   second worker at the same time;
 * - `addAfter` delays a key (the earliest pending delay wins);
 * - `addRateLimited` delays a key by its own exponential backoff with jitter, and by a global
 *   token bucket, whichever is longer; `forget` resets the key's backoff;
 * - `startResync` re-adds every known key periodically;
 * - `shutDown` stops handing out keys, `drain` waits for keys in flight.
 */
export class WorkQueue {
  readonly name: string;
  readonly #backoff: BackoffOptions;
  readonly #bucket: RetryTokenBucket | undefined;
  readonly #random: () => number;

  readonly #fifo = new Fifo();
  /** Keys that need processing: waiting in the FIFO, or re-added while in flight. */
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #addedAt = new Map<string, number>();
  readonly #startedAt = new Map<string, number>();
  readonly #waiters: ((key: string | undefined) => void)[] = [];
  readonly #drainWaiters: (() => void)[] = [];

  readonly #failures = new Map<string, number>();
  readonly #delayed = new Map<string, number>();
  readonly #heap = new DelayHeap();
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;

  readonly #known = new Set<string>();
  #resyncTimer: NodeJS.Timeout | undefined;

  #shuttingDown = false;

  readonly #m: {
    adds: ReturnType<typeof runtimeMetrics.queueAdds.labels>;
    retries: ReturnType<typeof runtimeMetrics.queueRetries.labels>;
    latency: ReturnType<typeof runtimeMetrics.queueLatency.labels>;
    work: ReturnType<typeof runtimeMetrics.workDuration.labels>;
  };

  constructor(opts: WorkQueueOptions) {
    this.name = opts.name;
    this.#backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
    if (!(this.#backoff.baseMs >= 0) || !(this.#backoff.maxMs >= this.#backoff.baseMs)) {
      throw new RangeError(`work queue ${opts.name}: backoff needs 0 <= baseMs <= maxMs`);
    }
    const rl = opts.rateLimit ?? { qps: 10, burst: 100 };
    this.#bucket = rl.qps === Infinity ? undefined : new RetryTokenBucket(rl.qps, rl.burst);
    this.#random = opts.random ?? Math.random;
    this.#m = {
      adds: runtimeMetrics.queueAdds.labels(this.name),
      retries: runtimeMetrics.queueRetries.labels(this.name),
      latency: runtimeMetrics.queueLatency.labels(this.name),
      work: runtimeMetrics.workDuration.labels(this.name),
    };
    liveQueues.set(this.name, this);
  }

  /** Keys waiting for a worker. */
  get length(): number {
    return this.#fifo.length;
  }
  /** Keys a worker holds right now. */
  get inFlight(): number {
    return this.#processing.size;
  }
  /** Keys waiting for a delay (backoff or addAfter). */
  get delayedCount(): number {
    return this.#delayed.size;
  }
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }
  /** True when the key waits in the queue or is waiting to be re-queued after its worker is done. */
  isQueued(key: string): boolean {
    return this.#dirty.has(key);
  }
  isProcessing(key: string): boolean {
    return this.#processing.has(key);
  }
  /** Keys ever added and not removed with `forgetKey` (what the default resync re-adds). */
  knownKeys(): IterableIterator<string> {
    return this.#known.values();
  }

  /** Queues a key for processing. No-op after shutdown. */
  add(key: string): void {
    if (this.#shuttingDown) return;
    this.#known.add(key);
    this.#m.adds.inc();
    if (this.#dirty.has(key)) return;
    this.#dirty.add(key);
    this.#addedAt.set(key, performance.now());
    if (this.#processing.has(key)) return; // re-queued by done()
    this.#enqueue(key);
  }

  /** Queues a key after `ms` (immediately when ms <= 0). An earlier pending delay of the key wins. */
  addAfter(key: string, ms: number): void {
    if (this.#shuttingDown) return;
    if (!(ms > 0)) {
      this.add(key);
      return;
    }
    this.#known.add(key);
    const at = Date.now() + ms;
    const pending = this.#delayed.get(key);
    if (pending !== undefined && pending <= at) return;
    this.#delayed.set(key, at);
    this.#heap.push({ key, at });
    this.#schedule(at);
  }

  /**
   * Queues a key after its backoff: the per-key exponential delay (which grows with each call
   * until `forget`) or the global token bucket's wait, whichever is longer. Returns the delay.
   */
  addRateLimited(key: string, atLeastMs = 0): number {
    if (this.#shuttingDown) return 0;
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    const perKey = backoffDelay(failures, this.#backoff, this.#random);
    const global = this.#bucket?.reserve() ?? 0;
    const delay = Math.max(perKey, global, atLeastMs);
    this.#m.retries.inc();
    this.addAfter(key, delay);
    return delay;
  }

  /** Resets the key's backoff (call after a successful reconcile). */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** How many times `addRateLimited` was called for the key since the last `forget`. */
  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** Removes a key from the known set used by resync (e.g. once its object is gone for good). */
  forgetKey(key: string): void {
    this.#known.delete(key);
    this.#failures.delete(key);
  }

  /**
   * Waits for the next key; resolves `undefined` once the queue is shut down. The caller owns
   * the key until it calls `done(key)`.
   */
  get(): Promise<string | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    const key = this.#take();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Marks the key finished; if it was re-added meanwhile it goes back into the queue. */
  done(key: string): void {
    if (!this.#processing.delete(key)) return;
    const started = this.#startedAt.get(key);
    this.#startedAt.delete(key);
    if (started !== undefined) this.#m.work.observe((performance.now() - started) / 1000);
    if (this.#dirty.has(key)) {
      if (this.#shuttingDown) {
        this.#dirty.delete(key);
      } else {
        this.#enqueue(key);
      }
    }
    if (this.#processing.size === 0 && this.#drainWaiters.length > 0) {
      for (const w of this.#drainWaiters.splice(0)) w();
    }
  }

  /** Re-adds `keys()` (default: every known key) every `periodMs`. 0 disables. */
  startResync(periodMs: number, keys: () => Iterable<string> = () => [...this.#known]): void {
    this.stopResync();
    if (!(periodMs > 0) || this.#shuttingDown) return;
    this.#resyncTimer = setInterval(() => {
      for (const key of keys()) this.add(key);
    }, periodMs);
    this.#resyncTimer.unref();
  }

  stopResync(): void {
    if (this.#resyncTimer) clearInterval(this.#resyncTimer);
    this.#resyncTimer = undefined;
  }

  /**
   * Stops the queue: `get()` resolves `undefined` from now on, adds are ignored, pending delays
   * and resyncs are cancelled. Keys in flight stay owned by their workers until `done`.
   */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    this.stopResync();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
    this.#heap.clear();
    this.#delayed.clear();
    this.#fifo.clear();
    for (const key of this.#dirty) if (!this.#processing.has(key)) this.#dirty.delete(key);
    this.#addedAt.clear();
    for (const w of this.#waiters.splice(0)) w(undefined);
  }

  /** Resolves true once no key is in flight, or false after `timeoutMs`. */
  drain(timeoutMs = Infinity): Promise<boolean> {
    if (this.#processing.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const w = (): void => {
        if (timer) clearTimeout(timer);
        resolve(true);
      };
      this.#drainWaiters.push(w);
      if (Number.isFinite(timeoutMs)) {
        timer = setTimeout(() => {
          const i = this.#drainWaiters.indexOf(w);
          if (i >= 0) this.#drainWaiters.splice(i, 1);
          resolve(false);
        }, timeoutMs);
      }
    });
  }

  /** `shutDown()` then `drain(timeoutMs)`. */
  shutDownWithDrain(timeoutMs = Infinity): Promise<boolean> {
    this.shutDown();
    return this.drain(timeoutMs);
  }

  #enqueue(key: string): void {
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#fifo.push(key);
      waiter(this.#take());
      return;
    }
    this.#fifo.push(key);
  }

  #take(): string | undefined {
    const key = this.#fifo.shift();
    if (key === undefined) return undefined;
    this.#dirty.delete(key);
    this.#processing.add(key);
    const now = performance.now();
    const added = this.#addedAt.get(key);
    this.#addedAt.delete(key);
    if (added !== undefined) this.#m.latency.observe((now - added) / 1000);
    this.#startedAt.set(key, now);
    return key;
  }

  #schedule(at: number): void {
    if (at >= this.#timerAt) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, at - Date.now()));
    this.#timer.unref();
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = Date.now();
    for (;;) {
      const top = this.#heap.peek();
      if (!top) break;
      if (this.#delayed.get(top.key) !== top.at) {
        this.#heap.pop(); // stale: the key got an earlier delay or was already added
        continue;
      }
      if (top.at > now) {
        this.#schedule(top.at);
        break;
      }
      this.#heap.pop();
      this.#delayed.delete(top.key);
      this.add(top.key);
    }
  }
}
