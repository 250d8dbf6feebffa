// The EniPool status as this process knows it best, and the one way it is written. Two controllers
// of this process (allocation, pool growth) and the controllers of other replicas write the same
// status; every write carries the resourceVersion it was computed from, so the API server refuses a
// write based on anything but the newest status. On a 409 the newest object is read and the change
// computed again at once (no queue backoff: an allocation waiting a backoff second is what the fast
// path exists to avoid).
import type { EniPool, EniPoolStatus } from '@kube-iaas/crds';
import { isKubeConflict, type KubeClient, type StatusWriter } from '@kube-iaas/core';
import { ENI_POOL_RESOURCE } from '../constants.ts';
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
  conflicts = 0;

  constructor(cache: PoolCache, client: KubeClient, writer: StatusWriter) {
    this.#cache = cache;
    this.#client = client;
    this.#writer = writer;
  }

  /** The informer's copy, or ours when ours is newer (same object, higher resourceVersion). */
  current(name: string): EniPool | undefined {
    const cached = this.#cache.get(name);
    const mine = this.#latest.get(name);
    if (!cached) return undefined;
    if (mine && mine.metadata.uid === cached.metadata.uid && rv(mine) > rv(cached)) {
      return { ...cached, status: mine.status, metadata: { ...cached.metadata, resourceVersion: mine.metadata.resourceVersion } };
    }
    return cached;
  }

  /** True when `seen` is a version this process already knows (its own write, or older). */
  known(seen: EniPool): boolean {
    const mine = this.#latest.get(seen.metadata.name ?? '');
    return !!mine && mine.metadata.uid === seen.metadata.uid && rv(seen) <= rv(mine);
  }

  forget(name: string): void {
    this.#latest.delete(name);
  }

  /**
   * Computes the next status from the newest pool and writes it with that pool's resourceVersion.
   * `change` returns undefined to write nothing (for example when the newest status makes the change
   * unsafe). Returns the pool written (or the newest one when nothing was written) and the value the
   * last `change` produced.
   */
  async update<T>(name: string, change: (pool: EniPool) => { status: EniPoolStatus; result: T } | undefined, attempts = 8): Promise<{ pool: EniPool | undefined; result: T | undefined; written: boolean }> {
    let pool = this.current(name);
    for (let i = 0; ; i++) {
      if (!pool) return { pool, result: undefined, written: false };
      const next = change(pool);
      if (!next) return { pool, result: undefined, written: false };
      try {
        const r = await this.#writer.replace(ENI_POOL_RESOURCE, pool, next.status, { optimistic: true });
        if (r.written) this.#remember(r.object);
        return { pool: r.object, result: next.result, written: r.written };
      } catch (e) {
        if (!isKubeConflict(e) || i + 1 >= attempts) throw e;
        this.conflicts++;
        poolMetrics.statusConflicts.inc();
        pool = await this.#client.get<EniPool>(ENI_POOL_RESOURCE, name);
        if (pool) this.#remember(pool);
      }
    }
  }

  #remember(p: EniPool): void {
    const name = p.metadata.name ?? '';
    const mine = this.#latest.get(name);
    if (!mine || mine.metadata.uid !== p.metadata.uid || rv(p) > rv(mine)) this.#latest.set(name, p);
  }
}
