// The EniPool status as this process knows it best, and the one way it is written. Two controllers
// of this process (allocation, pool growth) and the controllers of other replicas write the same
// status; every write carries the resourceVersion it was computed from, so the API server refuses a
// write based on anything but the newest status. On a 409 the newest object is read and the change
// computed again at once (no queue backoff: an allocation waiting a backoff second is what the fast
// path exists to avoid).
//
// Grants annotated on pods before they are recorded (the sole leader's annotate-first path) are held
// here as pending and are part of every view and every write of the pool, whichever controller writes
// it, so neither the allocator nor the pool controller can hand out or release them meanwhile.
import type { EniPool, EniPoolAllocation, EniPoolStatus } from '@kube-iaas/crds';
import { isKubeConflict, type KubeClient, type StatusWriter } from '@kube-iaas/core/runtime';
import { ENI_POOL_RESOURCE } from '../constants.ts';
import { withPending } from '../plan/index.ts';
import { poolMetrics } from './metrics.ts';

const rv = (o: { metadata?: { resourceVersion?: string } } | undefined) => Number(o?.metadata?.resourceVersion ?? 0);

export interface PoolCache {
  get(name: string): EniPool | undefined;
}

export class PoolStore {
  readonly #cache: PoolCache;
  readonly #client: KubeClient;
  readonly #writer: StatusWriter;
  /** The newest copy we wrote or read, so a reconcile right after a write does not read a stale cache. */
  readonly #latest = new Map<string, EniPool>();
  /** Per pool, pod uid → a grant annotated (or being annotated) on the pod and not recorded yet. */
  readonly #pending = new Map<string, Map<string, EniPoolAllocation>>();
  /** Per pool, addresses a write under way takes out of the record (to give them back to AWS). */
  readonly #leaving = new Map<string, ReadonlySet<string>>();
  readonly #onConflict: (pool: string, a: EniPoolAllocation) => void;
  conflicts = 0;

  constructor(cache: PoolCache, client: KubeClient, writer: StatusWriter, onConflict: (pool: string, a: EniPoolAllocation) => void = () => undefined) {
    this.#cache = cache;
    this.#client = client;
    this.#writer = writer;
    this.#onConflict = onConflict;
  }

  /** The informer's copy, or ours when ours is newer (same object, higher resourceVersion), with the pending grants. */
  current(name: string): EniPool | undefined {
    const base = this.#base(name);
    return base && this.#withPending(base);
  }

  /** The newest record known here, without the pending grants: what a status write diffs against. */
  #base(name: string): EniPool | undefined {
    const cached = this.#cache.get(name);
    const mine = this.#latest.get(name);
    if (!cached) return undefined;
    if (mine && mine.metadata.uid === cached.metadata.uid && rv(mine) > rv(cached)) {
      return { ...cached, status: mine.status, metadata: { ...cached.metadata, resourceVersion: mine.metadata.resourceVersion } };
    }
    return cached;
  }

  /** Holds a grant as pending until a write of the pool records it. */
  addPending(name: string, a: EniPoolAllocation): void {
    let m = this.#pending.get(name);
    if (!m) this.#pending.set(name, (m = new Map()));
    m.set(a.podUid, a);
  }

  /** Forgets a pending grant (its pod is gone before the grant was recorded). */
  dropPending(name: string, podUid: string): void {
    this.#pending.get(name)?.delete(podUid);
  }

  /**
   * Addresses of the pool that a status write under way is taking out of the record. A grant that is
   * not itself a write (annotate-first) must not pick them: the write was computed before the grant
   * and would not see it.
   */
  leaving(name: string): ReadonlySet<string> {
    return this.#leaving.get(name) ?? new Set();
  }

  pendingCount(name: string): number {
    return this.#pending.get(name)?.size ?? 0;
  }

  #withPending(pool: EniPool): EniPool {
    const name = pool.metadata.name ?? '';
    const m = this.#pending.get(name);
    if (!m?.size) return pool;
    const r = withPending(pool.status ?? {}, [...m.values()]);
    for (const a of r.recorded) if (m.get(a.podUid) === a) m.delete(a.podUid);
    for (const a of r.conflicts) {
      if (m.get(a.podUid) !== a) continue;
      m.delete(a.podUid);
      this.#onConflict(name, a);
    }
    return r.status === pool.status ? pool : { ...pool, status: r.status };
  }

  /** True when `seen` is a version this process already knows (its own write, or older). */
  known(seen: EniPool): boolean {
    const mine = this.#latest.get(seen.metadata.name ?? '');
    return !!mine && mine.metadata.uid === seen.metadata.uid && rv(seen) <= rv(mine);
  }

  forget(name: string): void {
    this.#latest.delete(name);
    this.#pending.delete(name);
  }

  /**
   * Computes the next status from the newest pool and writes it with that pool's resourceVersion.
   * `change` returns undefined to write nothing (for example when the newest status makes the change
   * unsafe). Returns the pool written (or the newest one when nothing was written) and the value the
   * last `change` produced.
   */
  async update<T>(
    name: string,
    change: (pool: EniPool) => { status: EniPoolStatus; result: T } | undefined,
    opts: { attempts?: number; leaving?: (result: T) => Iterable<string> } = {},
  ): Promise<{ pool: EniPool | undefined; result: T | undefined; written: boolean }> {
    const attempts = opts.attempts ?? 8;
    let base = this.#base(name);
    for (let i = 0; ; i++) {
      if (!base) return { pool: base, result: undefined, written: false };
      // `change` sees the pending grants; the patch is computed against the record without them, so
      // a write records them.
      const view = this.#withPending(base);
      const next = change(view);
      if (!next) return { pool: view, result: undefined, written: false };
      if (opts.leaving) this.#leaving.set(name, new Set(opts.leaving(next.result)));
      try {
        const r = await this.#writer.replace(ENI_POOL_RESOURCE, base, next.status, { optimistic: true });
        if (r.written) this.#remember(r.object);
        // What the write recorded is no longer pending.
        return { pool: this.#withPending(r.object), result: next.result, written: r.written };
      } catch (e) {
        if (!isKubeConflict(e) || i + 1 >= attempts) throw e;
        this.conflicts++;
        poolMetrics.statusConflicts.inc();
        base = await this.#client.get<EniPool>(ENI_POOL_RESOURCE, name);
        if (base) this.#remember(base);
      } finally {
        if (opts.leaving) this.#leaving.delete(name);
      }
    }
  }

  #remember(p: EniPool): void {
    const name = p.metadata.name ?? '';
    const mine = this.#latest.get(name);
    if (!mine || mine.metadata.uid !== p.metadata.uid || rv(p) > rv(mine)) this.#latest.set(name, p);
  }
}
