// The allocation fast path, one key per Node: hands the node's waiting pods free addresses from the
// pool as recorded in EniPool status (plus this process's pending grants), releases the addresses of
// pods that ended, and annotates the pods. No AWS call and no wait behind pool growth, which the pool
// controller does on its own queue; when the record shows the pool should grow or shrink, the
// allocator wakes it.
//
// Two orders, chosen per step:
// - sole allocator (leader election on, lease surely ours): the grant is held in-process as pending,
//   the pod is annotated at once, and the record is written behind it (one write per pool at a time,
//   later grants coalesced). One API round trip from a free address to the pod.
// - otherwise (leader election off, so several replicas may allocate): the grant is recorded first
//   with an optimistic write — the record is what keeps two replicas from giving one address twice —
//   and the pod annotated after it.
// Either way a pod annotated with an address the record lacks (a crash before the record write) is
// adopted from its annotation when the address is still free in the record, and given a new one
// otherwise.
import type { V1Pod } from '@kubernetes/client-node';
import type { EniPool, EniPoolAllocation, EniPoolStatus } from '@kube-iaas/crds';
import {
  ConditionType,
  getCondition,
  isBeingDeleted,
  isConditionTrue,
  resources,
  type Condition,
  type EventRecorder,
  type Informer,
  type KubeClient,
  type ReconcileContext,
  type ReconcileResult,
} from '@kube-iaas/core/runtime';
import { type Logger } from '@kube-iaas/core/log';
import { CONFLICT_CONDITION, DEVICE_INDEX_ANNOTATION, ENI_ANNOTATION, IP_ANNOTATION } from '../constants.ts';
import { allocationStep, planFromStatus, recordedCapacity, routeTableOf, withCounts, withReady, type AllocationStep, type PodRef } from '../plan/index.ts';
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
  /** Runs the allocator for the node again: at once (`failed` false: the record changed behind it) or with backoff (a background write or patch failed). */
  requeue: (name: string, failed: boolean) => void;
  /** True while this process is surely the only allocator: it may annotate before recording. */
  soleAllocator?: () => boolean;
  log?: Logger;
  now?: () => Date;
}

type Alive = (a: EniPoolAllocation) => boolean | undefined;

const RECORD_IDLE_MS = 150;
const RECORD_MAX_MS = 1_000;
type Mode = 'annotate-first' | 'record-first';

export function allocatorReconciler(deps: AllocatorDeps) {
  const now = deps.now ?? (() => new Date());
  const sole = deps.soleAllocator ?? (() => false);
  /** resourceVersion of each pod this process annotated, so a lagging pod cache does not cause a second patch. */
  const annotated = new Map<string, number>();
  /** Pods with an annotation patch in flight (uid → the address being written). */
  const inflight = new Map<string, string>();
  const rv = (p: V1Pod | undefined) => Number(p?.metadata?.resourceVersion ?? 0);
  const cooldownOf = (pool: EniPool) => (pool.spec.cooldownSeconds ?? 30) * 1000;

  /** One allocation step on `p` (the newest pool, pending grants included). */
  const stepOn = (p: EniPool, alive: Alive, wanting: readonly PodRef[]): AllocationStep =>
    allocationStep({ status: p.status ?? {}, alive, wanting, cooldownMs: cooldownOf(p), now: now() });

  /** The record after step `s` on `p`: allocations, cooldowns, counts and the Ready condition. */
  function statusAfter(p: EniPool, s: AllocationStep): EniPoolStatus {
    const capacity = recordedCapacity(p.spec, p.status);
    const counted = withCounts({ ...(p.status ?? {}), allocations: s.allocations, cooling: s.cooling });
    const waiting = podsWanting(deps.pods, p.metadata.name ?? '', s.allocations).length;
    const atLimit = capacity ? planFromStatus(p.spec, counted, waiting, capacity).atLimit : false;
    return withReady(counted, { waiting, atLimit, limit: capacity?.limit ?? 0, generation: p.metadata.generation ?? 0 });
  }

  // The record behind the annotate-first path: one write per pool at a time; a request while one is
  // under way runs once more after it, with the newest liveness view.
  const recording = new Map<string, Promise<void>>();
  const again = new Map<string, Alive>();
  function record(name: string, alive: Alive): void {
    if (recording.has(name)) {
      again.set(name, alive);
      return;
    }
    const run = deps.store
      .update(name, (p) => {
        const st = stepOn(p, alive, []);
        return { status: statusAfter(p, st), result: st };
      })
      .then(
        // What the write changed (cooldowns over, releases) may free addresses for waiting pods or
        // call for the pool to shrink: one more step for the node looks.
        (w) => (w.written ? deps.requeue(name, false) : undefined),
        (err: unknown) => {
          deps.log?.warn({ pool: name, err: (err as Error).message }, 'recording pending grants failed; the allocator runs again');
          deps.requeue(name, true);
        },
      )
      .finally(() => {
        recording.delete(name);
        const next = again.get(name);
        if (next) {
          again.delete(name);
          record(name, next);
        }
      });
    recording.set(name, run);
  }

  // Grants of a burst go into one write: the write waits until the node has been quiet for
  // RECORD_IDLE_MS (at most RECORD_MAX_MS after the first grant), so a status write of the pool rarely
  // lands on the API server together with the next pod's patch. The grants are pending meanwhile.
  const soon = new Map<string, { timer: ReturnType<typeof setTimeout>; first: number; alive: Alive }>();
  function recordSoon(name: string, alive: Alive): void {
    const t = performance.now();
    const s = soon.get(name);
    if (s) clearTimeout(s.timer);
    const first = s?.first ?? t;
    const timer = setTimeout(() => {
      const e = soon.get(name);
      soon.delete(name);
      record(name, e?.alive ?? alive);
    }, Math.max(0, Math.min(RECORD_IDLE_MS, first + RECORD_MAX_MS - t)));
    timer.unref?.();
    soon.set(name, { timer, first, alive });
  }

  /** Writes an allocation onto its pod and, when the pod was timed, adds it to `served` for the log line. */
  async function annotate(name: string, a: EniPoolAllocation, mode: Mode, served: string[]): Promise<void> {
    inflight.set(a.podUid, a.ip);
    // The operator's own share of the pod's time: from the informer's delivery to the patch sent.
    const ownMs = deps.clock.age(a.podUid);
    try {
      const patched = await annotatePod(deps.client, a);
      if (!patched) {
        // The pod is gone or replaced: a pending grant is simply forgotten; a recorded one is released
        // by the next step.
        deps.store.dropPending(name, a.podUid);
        deps.requeue(name, true);
        return;
      }
      annotated.set(a.podUid, rv(patched));
      poolMetrics.grants.inc({ mode });
      const t = deps.clock.served(a.podUid);
      if (t) {
        poolMetrics.allocationLatency.observe({ path: t.path }, t.ms / 1000);
        served.push(`${a.podNamespace}/${a.podName}=${a.ip} ${t.ms.toFixed(1)}ms ${t.path} own=${(ownMs ?? 0).toFixed(1)}ms`);
      }
    } catch (err) {
      deps.log?.warn({ pod: `${a.podNamespace}/${a.podName}`, err: (err as Error).message }, 'annotating the pod failed; the allocator runs again');
      deps.requeue(name, true);
    } finally {
      if (inflight.get(a.podUid) === a.ip) inflight.delete(a.podUid);
    }
  }

  /** Allocations of the view whose pod lacks them and is not being patched already. */
  function toAnnotate(allocations: readonly EniPoolAllocation[], byUid: ReadonlyMap<string, V1Pod>): EniPoolAllocation[] {
    return allocations.filter((a) => {
      const p = byUid.get(a.podUid);
      return p && inflight.get(a.podUid) !== a.ip && !isAnnotated(p, a) && !(rv(p) < (annotated.get(a.podUid) ?? 0));
    });
  }

  return async (key: string, ctx: ReconcileContext): Promise<ReconcileResult> => {
    const started = performance.now();
    let pool = deps.store.current(key);
    if (!pool?.metadata.name || isBeingDeleted(pool)) return;
    // A pool that does not hold its instance (Conflict) hands out and releases nothing.
    if (isConditionTrue(pool.status?.conditions as Condition[] | undefined, CONFLICT_CONDITION)) return;
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
    const alive: Alive = (a) => {
      const p = byUid.get(a.podUid);
      if (p) return wantsAddress(p);
      if (deps.clock.isGone(a.podUid)) return false;
      return confirmed.get(a.podUid); // undefined: an allocation newer than this step's look-ups; kept
    };

    // Annotations the record lacks (a crash before the record write): adopted while still free.
    const adopted = adoptAnnotations(pool, podsHere);
    for (const a of adopted) deps.store.addPending(name, a);
    if (adopted.length) {
      ctx.log.info({ adopted: adopted.map((a) => `${a.podNamespace}/${a.podName}=${a.ip}`) }, 'addresses adopted from pod annotations');
      pool = deps.store.current(name) ?? pool;
    }

    const mode: Mode = sole() ? 'annotate-first' : 'record-first';
    const served: string[] = [];
    let step: AllocationStep | undefined;
    let written: EniPool;
    if (mode === 'annotate-first') {
      const st = pool.status ?? {};
      // Addresses a pool-controller write is taking out of the record are not handed out meanwhile.
      const leaving = deps.store.leaving(name);
      const grantable = leaving.size ? { ...st, enis: (st.enis ?? []).map((e) => ({ ...e, secondaryIps: (e.secondaryIps ?? []).filter((ip) => !leaving.has(ip)) })) } : st;
      step = allocationStep({ status: grantable, alive, wanting: podsWanting(deps.pods, name, st.allocations ?? []), cooldownMs: cooldownOf(pool), now: now(), grantExpired: false });
      for (const g of step.granted) deps.store.addPending(name, g);
      written = deps.store.current(name) ?? pool;
      const todo = toAnnotate(written.status?.allocations ?? [], byUid);
      // Not awaited: the next step for this node may start while these patches are under way (the
      // grants are pending, so it cannot hand the addresses out again).
      const patches = todo.map((a) => annotate(name, a, mode, served));
      if (step.changed || adopted.length || deps.store.pendingCount(name) > 0) recordSoon(name, alive);
      const queuedMs = Math.max(0, ...step.granted.map((g) => (deps.clock.age(g.podUid) ?? 0) - (performance.now() - started)));
      const dispatched = performance.now();
      void Promise.all(patches).then(() => {
        // Where the operator time went: waiting for a worker, then the pod patches (no write before them).
        if (served.length) ctx.log.info({ served, mode, queuedMs: +queuedMs.toFixed(1), annotateMs: +(performance.now() - dispatched).toFixed(1) }, 'addresses handed out');
      });
    } else {
      const w = await deps.store.update(name, (p) => {
        step = stepOn(p, alive, podsWanting(deps.pods, name, p.status?.allocations ?? []));
        return step.changed || adopted.length > 0 ? { status: statusAfter(p, step), result: step } : undefined;
      });
      if (!step) return; // the pool is gone
      const statusWriteMs = performance.now() - started;
      written = w.pool ?? pool;
      const wroteAt = performance.now();
      // What this step granted, and any allocation whose pod still lacks it (a crash between the
      // status write and the patch, or another replica's grant it has not annotated yet).
      await Promise.all(toAnnotate(written.status?.allocations ?? [], byUid).map((a) => annotate(name, a, mode, served)));
      if (served.length) {
        // Where the operator time went: waiting for a worker, the status write, the pod patches.
        const phases = { statusWriteMs: +statusWriteMs.toFixed(1), annotateMs: +(performance.now() - wroteAt).toFixed(1) };
        ctx.log.info({ served, mode, ...phases, conflicts: deps.store.conflicts }, 'addresses handed out');
      }
    }
    for (const [uid] of annotated) if (!byUid.has(uid)) annotated.delete(uid);

    // What the pool needs now; the pool controller does the AWS part.
    const st = written.status ?? {};
    const waiting = podsWanting(deps.pods, name, st.allocations ?? []);
    for (const p of waiting) deps.clock.waited(p.uid);
    const plan = planFromStatus(written.spec, st, waiting.length, capacity);
    if (plan.actions.length > 0) deps.wakePool(name);
    poolMetrics.waiting.set({ node: name }, waiting.length);
    poolMetrics.addresses.set({ node: name, state: 'used' }, st.summary?.used ?? 0);
    poolMetrics.addresses.set({ node: name, state: 'free' }, st.summary?.free ?? 0);
    poolMetrics.addresses.set({ node: name, state: 'cooling' }, st.summary?.cooling ?? 0);
    if (waiting.length > 0) warnWaiting(deps.events, written, waiting, plan.atLimit, capacity.limit);

    if (step.nextExpiryMs !== undefined) return { requeueAfter: step.nextExpiryMs + 20 };
    return;
  };
}

/**
 * Pods on the node that carry our address annotation while the record (pending grants included) has
 * no allocation for them: the grant was annotated and the process died before recording it. The
 * address is taken back into the record when it is on an ENI of the pool and nobody holds it; a pod
 * whose address is held by another or gone stays without allocation and is given a new one.
 */
export function adoptAnnotations(pool: EniPool, pods: readonly V1Pod[]): EniPoolAllocation[] {
  const st = pool.status ?? {};
  const holders = new Set((st.allocations ?? []).map((a) => a.podUid));
  const held = new Set([...(st.allocations ?? []).map((a) => a.ip), ...(st.cooling ?? []).map((c) => c.ip)]);
  const eniOf = new Map((st.enis ?? []).flatMap((e) => (e.secondaryIps ?? []).map((ip) => [ip, e] as const)));
  const out: EniPoolAllocation[] = [];
  // Oldest first: of two pods claiming one address, the one that had it first keeps it.
  const ordered = [...pods].sort((a, b) => String(toIso(a.metadata?.creationTimestamp)).localeCompare(String(toIso(b.metadata?.creationTimestamp))) || String(a.metadata?.name).localeCompare(String(b.metadata?.name)));
  for (const p of ordered) {
    const uid = p.metadata?.uid ?? '';
    const ip = p.metadata?.annotations?.[IP_ANNOTATION];
    if (!ip || !uid || holders.has(uid) || !wantsAddress(p) || p.metadata?.deletionTimestamp) continue;
    const eni = eniOf.get(ip);
    if (!eni || held.has(ip)) continue;
    // The annotation's ENI and device index must match the record (the data plane routes by them).
    const ann = p.metadata?.annotations ?? {};
    if ((ann[ENI_ANNOTATION] && ann[ENI_ANNOTATION] !== eni.eniId) || (ann[DEVICE_INDEX_ANNOTATION] && ann[DEVICE_INDEX_ANNOTATION] !== String(eni.deviceIndex))) continue;
    held.add(ip);
    out.push({
      ip,
      eniId: eni.eniId,
      deviceIndex: eni.deviceIndex,
      routeTable: routeTableOf(eni.deviceIndex),
      podNamespace: p.metadata?.namespace ?? 'default',
      podName: p.metadata?.name ?? '',
      podUid: uid,
      allocatedAt: toIso(p.metadata?.creationTimestamp) ?? new Date().toISOString(),
    });
  }
  return out;
}

function toIso(t: Date | string | undefined): string | undefined {
  return t === undefined ? undefined : new Date(t).toISOString();
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
