// The node's pods as the pool sees them: which want an address, which have gone, the annotation
// that gives a pod its address, and the clock of "operator time" (pod seen bound → annotation
// acknowledged) that the allocation metric and the benchmark report.
import type { V1Pod } from '@kubernetes/client-node';
import type { EniPoolAllocation } from '@kube-iaas/crds';
import { isKubeNotFound, resources, type Informer, type KubeClient } from '@kube-iaas/core/runtime';
import { DEVICE_INDEX_ANNOTATION, ENI_ANNOTATION, IP_ANNOTATION, ROUTE_TABLE_ANNOTATION } from '../constants.ts';
import type { PodRef } from '../plan/index.ts';

export const POD_NODE_INDEX = 'nodeName';

/** A pod that holds (or should hold) a pool address: bound, not host-network, not finished. */
export function wantsAddress(p: V1Pod): boolean {
  return !!p.spec?.nodeName && !p.spec.hostNetwork && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';
}

/** Pods on the node that should get an address and hold none in `allocations`, oldest first. */
export function podsWanting(pods: Informer<V1Pod>, node: string, allocations: readonly EniPoolAllocation[]): PodRef[] {
  const holders = new Set(allocations.map((a) => a.podUid));
  return pods
    .byIndex(POD_NODE_INDEX, node)
    .filter((p) => wantsAddress(p) && !p.metadata?.deletionTimestamp && !holders.has(p.metadata?.uid ?? ''))
    .sort((a, b) => String(a.metadata?.creationTimestamp ?? '').localeCompare(String(b.metadata?.creationTimestamp ?? '')) || String(a.metadata?.name).localeCompare(String(b.metadata?.name)))
    .map((p) => ({ namespace: p.metadata?.namespace ?? 'default', name: p.metadata?.name ?? '', uid: p.metadata?.uid ?? '' }));
}

export function annotationsOf(a: EniPoolAllocation): Record<string, string> {
  return {
    [IP_ANNOTATION]: a.ip,
    [ENI_ANNOTATION]: a.eniId,
    [DEVICE_INDEX_ANNOTATION]: String(a.deviceIndex ?? ''),
    [ROUTE_TABLE_ANNOTATION]: String(a.routeTable ?? ''),
  };
}

export function isAnnotated(p: V1Pod | undefined, a: EniPoolAllocation): boolean {
  const have = p?.metadata?.annotations ?? {};
  return Object.entries(annotationsOf(a)).every(([k, v]) => have[k] === v);
}

/**
 * Writes the allocation onto its pod. The uid in the patch is a precondition: a pod recreated under
 * the same name does not take the address. Returns the patched pod, or undefined when the pod is gone
 * or replaced (the next allocation step releases the address).
 */
export async function annotatePod(client: KubeClient, a: EniPoolAllocation): Promise<V1Pod | undefined> {
  try {
    return await client.patch<V1Pod>(resources.Pod, { name: a.podName, namespace: a.podNamespace }, { metadata: { uid: a.podUid, annotations: annotationsOf(a) } });
  } catch (e) {
    const code = (e as { code?: number }).code;
    if (isKubeNotFound(e) || code === 409 || code === 422) return undefined;
    throw e;
  }
}

/**
 * What this process has seen of pods: when each was first seen bound and waiting for an address,
 * which waited for the pool to grow, and which have been deleted (a deletion seen by the informer
 * needs no GET to confirm before the address is released).
 */
export class PodClock {
  readonly #seen = new Map<string, number>();
  readonly #waited = new Set<string>();
  readonly #gone = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Called from the informer's handlers. */
  observe(p: V1Pod): void {
    const uid = p.metadata?.uid;
    if (!uid || this.#seen.has(uid) || !wantsAddress(p) || p.metadata?.annotations?.[IP_ANNOTATION]) return;
    this.#seen.set(uid, this.#now());
  }

  deleted(p: V1Pod): void {
    const uid = p.metadata?.uid;
    if (!uid) return;
    this.#seen.delete(uid);
    this.#waited.delete(uid);
    const t = this.#now();
    this.#gone.set(uid, t);
    if (this.#gone.size > 10_000) for (const [k, v] of this.#gone) if (t - v > 600_000) this.#gone.delete(k);
  }

  /** Milliseconds since the pod was first seen waiting (undefined when not timed). */
  age(uid: string): number | undefined {
    const t0 = this.#seen.get(uid);
    return t0 === undefined ? undefined : this.#now() - t0;
  }

  isGone(uid: string): boolean {
    return this.#gone.has(uid);
  }

  waited(uid: string): void {
    if (this.#seen.has(uid)) this.#waited.add(uid);
  }

  /** Operator time of a pod whose annotation was just acknowledged, and whether it waited for growth; forgets the pod. */
  served(uid: string): { ms: number; path: 'warm' | 'grown' } | undefined {
    const t0 = this.#seen.get(uid);
    if (t0 === undefined) return undefined;
    const path = this.#waited.has(uid) ? 'grown' : 'warm';
    this.#seen.delete(uid);
    this.#waited.delete(uid);
    return { ms: this.#now() - t0, path };
  }
}
