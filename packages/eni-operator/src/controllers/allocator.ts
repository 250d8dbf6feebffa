// The allocation fast path, one key per Node: hands the node's waiting pods free addresses from the
// pool as recorded in EniPool status (the informer's copy, or this process's newer one), releases the
// addresses of pods that ended, in one optimistic status write, then annotates the pods. No AWS call
// and no wait behind pool growth, which the pool controller does on its own queue; when the record
// shows the pool should grow or shrink, the allocator wakes it.
import type { V1Pod } from '@kubernetes/client-node';
import type { EniPool, EniPoolAllocation } from '@kube-iaas/crds';
import { ConditionType, getCondition, isBeingDeleted, resources, type Condition, type EventRecorder, type Informer, type KubeClient, type ReconcileContext, type ReconcileResult } from '@kube-iaas/core';
import { allocationStep, planFromStatus, recordedCapacity, withCounts, withReady, type AllocationStep } from '../plan/index.ts';
import { poolMetrics } from './metrics.ts';
import { POD_NODE_INDEX, annotatePod, isAnnotated, podsWanting, wantsAddress, type PodClock } from './pods.ts';
import type { PoolStore } from './store.ts';

export interface AllocatorDeps {
  client: KubeClient;
  store: PoolStore;
  pods: Informer<V1Pod>;
  events: EventRecorder;
  clock: PodClock;
  /** Asks the pool controller to look at AWS (the record calls for growth or shrinking). */
  wakePool: (name: string) => void;
  now?: () => Date;
}

export function allocatorReconciler(deps: AllocatorDeps) {
  const now = deps.now ?? (() => new Date());
  /** resourceVersion of each pod this process annotated, so a lagging pod cache does not cause a second patch. */
  const annotated = new Map<string, number>();
  const rv = (p: V1Pod | undefined) => Number(p?.metadata?.resourceVersion ?? 0);

  return async (key: string, ctx: ReconcileContext): Promise<ReconcileResult> => {
    const started = performance.now();
    const pool = deps.store.current(key);
    if (!pool?.metadata.name || isBeingDeleted(pool)) return;
    const capacity = recordedCapacity(pool.spec, pool.status);
    if (!capacity) return; // nothing recorded yet: the pool controller wakes us when it has
    const name = pool.metadata.name;
    const podsHere = deps.pods.byIndex(POD_NODE_INDEX, name);
    const byUid = new Map(podsHere.map((p) => [p.metadata?.uid ?? '', p]));

    // A pod missing from this replica's cache may only be newer than the cache (another replica served
    // it): unless the informer saw it deleted, ask the API server before its address is released.
    const confirmed = new Map<string, boolean>();
    for (const a of pool.status?.allocations ?? []) {
      if (byUid.has(a.podUid) || deps.clock.isGone(a.podUid)) continue;
      const live = await deps.client.get<V1Pod>(resources.Pod, a.podName, a.podNamespace);
      confirmed.set(a.podUid, live?.metadata?.uid === a.podUid && live.spec?.nodeName === name && wantsAddress(live));
    }
    const alive = (a: EniPoolAllocation): boolean | undefined => {
      const p = byUid.get(a.podUid);
      if (p) return wantsAddress(p);
      if (deps.clock.isGone(a.podUid)) return false;
      return confirmed.get(a.podUid); // undefined: an allocation newer than this step's look-ups; kept
    };
    const cooldownMs = (pool.spec.cooldownSeconds ?? 30) * 1000;

    let step: AllocationStep | undefined;
    const w = await deps.store.update(name, (p) => {
      const st = p.status ?? {};
      const s = allocationStep({ status: st, alive, wanting: podsWanting(deps.pods, name, st.allocations ?? []), cooldownMs, now: now() });
      step = s;
      if (!s.changed) return undefined;
      const counted = withCounts({ ...st, allocations: s.allocations, cooling: s.cooling });
      const plan = planFromStatus(p.spec, counted, s.waiting.length, capacity);
      const status = withReady(counted, { waiting: s.waiting.length, atLimit: plan.atLimit, limit: capacity.limit, generation: p.metadata.generation ?? 0 });
      return { status, result: s };
    });
    const wroteAt = performance.now();
    const written = w.pool ?? pool;
    const st = written.status ?? {};
    const s = step;
    if (!s) return;

    // Annotate: what this step granted, and any allocation whose pod still lacks it (a crash between the
    // status write and the patch, or another replica's grant it has not annotated yet).
    const todo = (st.allocations ?? []).filter((a) => {
      const p = byUid.get(a.podUid);
      return p && !isAnnotated(p, a) && !(rv(p) < (annotated.get(a.podUid) ?? 0));
    });
    const served: string[] = [];
    const queuedMs = Math.max(0, ...s.granted.map((g) => (deps.clock.age(g.podUid) ?? 0) - (performance.now() - started)));
    await Promise.all(
      todo.map(async (a) => {
        const patched = await annotatePod(deps.client, a);
        if (!patched) return;
        annotated.set(a.podUid, rv(patched));
        const t = deps.clock.served(a.podUid);
        if (t) {
          poolMetrics.allocationLatency.observe({ path: t.path }, t.ms / 1000);
          served.push(`${a.podNamespace}/${a.podName}=${a.ip} ${t.ms.toFixed(1)}ms ${t.path}`);
        }
      }),
    );
    for (const [uid] of annotated) if (!byUid.has(uid)) annotated.delete(uid);
    if (served.length) {
      // Where the operator time went: waiting for a worker, the status write, the pod patches.
      const phases = { queuedMs: +queuedMs.toFixed(1), statusWriteMs: +(wroteAt - started).toFixed(1), annotateMs: +(performance.now() - wroteAt).toFixed(1) };
      ctx.log.info({ served, ...phases, conflicts: deps.store.conflicts }, 'addresses handed out');
    }

    // What the pool needs now; the pool controller does the AWS part.
    const waiting = podsWanting(deps.pods, name, st.allocations ?? []);
    for (const p of waiting) deps.clock.waited(p.uid);
    const plan = planFromStatus(written.spec, st, waiting.length, capacity);
    if (plan.actions.length > 0) deps.wakePool(name);
    poolMetrics.waiting.set({ node: name }, waiting.length);
    poolMetrics.addresses.set({ node: name, state: 'used' }, st.summary?.used ?? 0);
    poolMetrics.addresses.set({ node: name, state: 'free' }, st.summary?.free ?? 0);
    poolMetrics.addresses.set({ node: name, state: 'cooling' }, st.summary?.cooling ?? 0);
    if (waiting.length > 0) warnWaiting(deps.events, written, waiting, plan.atLimit, capacity.limit);

    if (s.nextExpiryMs !== undefined) return { requeueAfter: s.nextExpiryMs + 20 };
    return;
  };
}

/** Warning Event on each waiting pod when the pool cannot grow (at its limit, or AWS refuses). */
function warnWaiting(events: EventRecorder, pool: EniPool, waiting: readonly { namespace: string; name: string; uid: string }[], atLimit: boolean, limit: number): void {
  const synced = getCondition(pool.status?.conditions as Condition[] | undefined, ConditionType.Synced);
  const node = pool.metadata.name ?? '';
  const used = pool.status?.summary?.used ?? 0;
  let message: string | undefined;
  if (atLimit) message = `node ${node} is out of pod addresses (${used}/${limit} in use, the ${pool.spec.instanceType} limit is ${pool.status?.capacity?.podAddresses ?? limit}); the pod gets one as soon as an address is free`;
  else if (synced?.status === 'False') message = `node ${node} has no free pod address and its pool cannot grow (${synced.reason}: ${synced.message}); the pod gets one as soon as an address is free`;
  if (!message) return;
  for (const w of waiting) events.warning({ apiVersion: 'v1', kind: 'Pod', metadata: { name: w.name, namespace: w.namespace, uid: w.uid } }, 'NoAddressAvailable', message, { type: resources.Pod });
}
