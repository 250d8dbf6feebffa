import { pino, type Logger } from 'pino';
import type { BackoffOptions } from './backoff.ts';
import { deepEqual } from './diff.ts';
import { classifyError } from './errors.ts';
import type { Informer } from './informer.ts';
import { runtimeMetrics } from './metrics.ts';
import { WorkQueue } from './queue.ts';
import { objectKey, splitKey, type KubeObject } from './types.ts';

/** What a reconcile asks for: nothing (done until something changes) or a check again later. */
export type ReconcileResult = { requeueAfter?: number } | void | undefined;

export interface ReconcileContext {
  key: string;
  namespace: string | undefined;
  name: string;
  /** Failed attempts of this key since its last success (0 on a first try). */
  attempt: number;
  /** Logger carrying `controller` and `key`. */
  readonly log: Logger;
}

export type Reconciler = (key: string, ctx: ReconcileContext) => Promise<ReconcileResult>;

export interface ControllerOptions {
  name: string;
  reconcile: Reconciler;
  /** Concurrent reconciles (different keys); one key is never reconciled twice at once. Default 2. */
  workers?: number;
  /** Per-key backoff after errors. Default 1s … 5m, jitter 0.2. */
  backoff?: Partial<BackoffOptions>;
  /** Global token bucket on retries. Default 10/s, burst 100. */
  rateLimit?: { qps: number; burst: number };
  /** Re-enqueue every key this often (ms); 0 disables. Default 10 minutes. */
  resyncPeriodMs?: number;
  /** Keys the resync re-enqueues; default: the keys of the primary informers, or every key ever queued. */
  resyncKeys?: () => Iterable<string>;
  log?: Logger;
  /** Random source for jitter (tests). */
  random?: () => number;
}

/** Which updates of a watched informer wake the controller. */
export interface WatchOptions<T> {
  /** Called with the new and the previous object; false drops the update. */
  filter?: (obj: T, old: T) => boolean;
}

/**
 * True when anything but status (and resourceVersion / managedFields) changed: generation, spec,
 * labels, annotations, finalizers, owners, deletion. The usual update filter of a primary informer.
 */
export function metaOrSpecChanged(a: { metadata?: object; spec?: unknown }, b: { metadata?: object; spec?: unknown }): boolean {
  const meta = (o: { metadata?: object }) => {
    const { resourceVersion: _rv, managedFields: _mf, ...rest } = (o.metadata ?? {}) as Record<string, unknown>;
    return rest;
  };
  return !deepEqual(meta(a), meta(b)) || !deepEqual(a.spec, b.spec);
}

/** Maps an object of a watched informer to the controller keys it affects. */
export type KeyMapper<T> = (obj: T) => Iterable<string> | string | undefined | null;

/**
 * A level-triggered controller: informer events enqueue keys, N workers call `reconcile(key)`.
 * The result decides what happens next:
 *
 * - resolves `void` → the key's backoff is reset; nothing until the next event or resync;
 * - resolves `{ requeueAfter: ms }` → reconciled again after ms (backoff reset);
 * - throws → classified with `classifyError`: 'terminal' is counted and logged but not retried
 *   (the next change of the object or the resync tries again); anything else is retried with the
 *   key's exponential backoff (and at least `retryAfterMs` when the error carries one).
 */
export class Controller {
  readonly name: string;
  readonly #opts: ControllerOptions;
  readonly #log: Logger | undefined;
  /** Informers whose own keys are this controller's: their keys are what a resync enqueues. */
  readonly #primaries: Pick<Informer<KubeObject>, 'keys'>[] = [];
  #queue: WorkQueue;
  #workers: Promise<void>[] = [];
  #running = false;
  readonly #m: {
    success: ReturnType<typeof runtimeMetrics.reconcileTotal.labels>;
    requeueAfter: ReturnType<typeof runtimeMetrics.reconcileTotal.labels>;
    error: ReturnType<typeof runtimeMetrics.reconcileTotal.labels>;
    terminal: ReturnType<typeof runtimeMetrics.reconcileTotal.labels>;
  };

  constructor(opts: ControllerOptions) {
    if (opts.workers !== undefined && !(Number.isInteger(opts.workers) && opts.workers >= 1)) {
      throw new RangeError(`controller ${opts.name}: workers must be an integer >= 1`);
    }
    this.name = opts.name;
    this.#opts = opts;
    this.#log = opts.log?.child({ controller: opts.name });
    this.#queue = this.#newQueue();
    this.#m = {
      success: runtimeMetrics.reconcileTotal.labels(this.name, 'success'),
      requeueAfter: runtimeMetrics.reconcileTotal.labels(this.name, 'requeue_after'),
      error: runtimeMetrics.reconcileTotal.labels(this.name, 'error'),
      terminal: runtimeMetrics.reconcileTotal.labels(this.name, 'terminal'),
    };
    runtimeMetrics.activeWorkers.set({ controller: this.name }, 0);
  }

  get queue(): WorkQueue {
    return this.#queue;
  }
  /** True while workers run (on the leader). */
  get running(): boolean {
    return this.#running;
  }
  get workers(): number {
    return this.#opts.workers ?? 2;
  }

  /**
   * Enqueues keys on every add / update / delete of the informer's objects. Without `map` the
   * informer is primary: its objects' own keys are enqueued and resynced. With `map` each event is
   * mapped to the keys it affects (both the new and the old object on update, so a Pod moving
   * between nodes wakes both). `filter` decides which updates count, e.g. `metaOrSpecChanged` so
   * the operator's own status writes do not wake it again; adds and deletes always count.
   */
  watch<T extends KubeObject>(informer: Informer<T>, map?: KeyMapper<T>, opts: WatchOptions<T> = {}): this {
    const fn: KeyMapper<T> = map ?? ((o) => objectKey(o));
    if (!map) this.#primaries.push(informer);
    const enqueue = (obj: T): void => {
      const r = fn(obj);
      if (r === undefined || r === null) return;
      if (typeof r === 'string') this.enqueue(r);
      else for (const k of r) this.enqueue(k);
    };
    informer.on({
      add: enqueue,
      update: (obj, old) => {
        if (opts.filter && old !== undefined && !opts.filter(obj, old)) return;
        enqueue(obj);
        if (map && old) enqueue(old);
      },
      delete: enqueue,
    });
    return this;
  }

  enqueue(key: string): void {
    this.#queue.add(key);
  }

  enqueueAfter(key: string, ms: number): void {
    this.#queue.addAfter(key, ms);
  }

  /** Starts workers; every resync key is enqueued first so nothing missed while standing by is lost. */
  start(): void {
    if (this.#running) return;
    if (this.#queue.shuttingDown) this.#queue = this.#newQueue();
    this.#running = true;
    for (const key of this.#resyncKeys()) this.#queue.add(key);
    this.#queue.startResync(this.#opts.resyncPeriodMs ?? 600_000, () => this.#resyncKeys());
    this.#workers = [];
    for (let i = 0; i < this.workers; i++) this.#workers.push(this.#worker());
    runtimeMetrics.activeWorkers.set({ controller: this.name }, this.workers);
    this.#log?.info({ workers: this.workers }, 'controller started');
  }

  /**
   * Stops taking keys and waits for reconciles in flight (up to `timeoutMs`). Resolves false when
   * the timeout passed with reconciles still running.
   */
  async stop(timeoutMs = 30_000): Promise<boolean> {
    if (!this.#running) {
      this.#queue.shutDown();
      return true;
    }
    this.#running = false;
    const drained = await this.#queue.shutDownWithDrain(timeoutMs);
    if (drained) await Promise.all(this.#workers);
    this.#workers = [];
    runtimeMetrics.activeWorkers.set({ controller: this.name }, 0);
    this.#log?.info({ drained }, 'controller stopped');
    return drained;
  }

  #newQueue(): WorkQueue {
    return new WorkQueue({
      name: this.name,
      ...(this.#opts.backoff ? { backoff: this.#opts.backoff } : {}),
      ...(this.#opts.rateLimit ? { rateLimit: this.#opts.rateLimit } : {}),
      ...(this.#opts.random ? { random: this.#opts.random } : {}),
    });
  }

  #resyncKeys(): Iterable<string> {
    if (this.#opts.resyncKeys) return this.#opts.resyncKeys();
    if (this.#primaries.length > 0) {
      const keys = new Set<string>();
      for (const inf of this.#primaries) for (const k of inf.keys()) keys.add(k);
      return keys;
    }
    return [...this.#queue.knownKeys()];
  }

  async #worker(): Promise<void> {
    const q = this.#queue;
    for (;;) {
      const key = await q.get();
      if (key === undefined) return;
      try {
        await this.#process(q, key);
      } finally {
        q.done(key);
      }
    }
  }

  async #process(q: WorkQueue, key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const parentLog = this.#log;
    let log: Logger | undefined;
    const ctx: ReconcileContext = {
      key,
      namespace,
      name,
      attempt: q.numRequeues(key),
      get log(): Logger {
        log ??= parentLog ? parentLog.child({ key }) : silentLogger;
        return log;
      },
    };
    try {
      const res = await this.#opts.reconcile(key, ctx);
      q.forget(key);
      const after = res?.requeueAfter;
      if (after !== undefined && after >= 0) {
        q.addAfter(key, after);
        this.#m.requeueAfter.inc();
      } else {
        this.#m.success.inc();
      }
    } catch (err) {
      const c = classifyError(err);
      runtimeMetrics.reconcileErrors.inc({ controller: this.name, kind: c.kind });
      if (c.terminal) {
        q.forget(key);
        this.#m.terminal.inc();
        ctx.log.error({ err, kind: c.kind }, 'reconcile failed with a terminal error; not retrying until the object changes');
      } else {
        const delay = q.addRateLimited(key, c.retryAfterMs ?? 0);
        this.#m.error.inc();
        ctx.log.warn({ err: c.message, kind: c.kind, attempt: ctx.attempt + 1, retryInMs: delay }, 'reconcile failed; retrying');
      }
    }
  }
}

/** Stand-in logger for controllers built without one. */
const silentLogger: Logger = pino({ level: 'silent' });
