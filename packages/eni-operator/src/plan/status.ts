// Pure steps on the recorded pool (EniPool status), shared by the allocation fast path and the pool
// controller: one allocation step (release what ended, expire cooldowns, hand out free addresses),
// counts, the Ready condition, the pool plan as the status alone sees it, and the removal of
// addresses from the record before they go back to AWS.
import type { EniPoolAllocation, EniPoolCoolingAddress, EniPoolEni, EniPoolSpec, EniPoolStatus } from '@kube-iaas/crds';
import { readyCondition, setConditions, type Condition } from '@kube-iaas/core/runtime';
import { allocate, expireCooling, release, type PodRef } from './allocate.ts';
import { capacityOf, type PoolCapacity } from './capacity.ts';
import { planPool, type PoolEni, type PoolPlan } from './pool.ts';

export const poolEnisOf = (enis: readonly EniPoolEni[] | undefined): PoolEni[] =>
  (enis ?? []).map((e) => ({ eniId: e.eniId, deviceIndex: e.deviceIndex, secondaryIps: e.secondaryIps ?? [] }));

export interface AllocationStepInput {
  status: EniPoolStatus;
  /**
   * Whether an allocation's pod still holds its address: true (alive), false (gone or finished), or
   * undefined (unknown here — kept: another replica may have served a pod this one has not seen).
   */
  alive: (a: EniPoolAllocation) => boolean | undefined;
  /** Pods on the node without an allocation, in hand-out order. */
  wanting: readonly PodRef[];
  cooldownMs: number;
  now: Date;
  /**
   * Whether addresses whose cooldown ends in this step may be handed out in it (default true). False
   * when grants are not written with the step (annotate-first): the record still lists them as
   * cooling until the step is written, and a grant must be of an address the record shows free.
   */
  grantExpired?: boolean;
}

export interface AllocationStep {
  allocations: EniPoolAllocation[];
  cooling: EniPoolCoolingAddress[];
  granted: EniPoolAllocation[];
  released: EniPoolCoolingAddress[];
  expired: EniPoolCoolingAddress[];
  waiting: PodRef[];
  nextExpiryMs?: number;
  /** False when the step changes nothing in the record. */
  changed: boolean;
}

/** One allocation step on the recorded pool; never hands out an address an allocation or a cooldown holds. */
export function allocationStep(input: AllocationStepInput): AllocationStep {
  const { status, now } = input;
  const inPool = new Set((status.enis ?? []).flatMap((e) => e.secondaryIps ?? []));
  const { kept, released } = release(status.allocations ?? [], (a) => input.alive(a) !== false, now);
  const cool = expireCooling([...(status.cooling ?? []), ...released].filter((c) => inPool.has(c.ip)), input.cooldownMs, now);
  const resting = input.grantExpired === false ? [...cool.cooling, ...cool.expired] : cool.cooling;
  const { granted, waiting } = allocate(poolEnisOf(status.enis), kept, resting, input.wanting, now);
  const droppedCooling = (status.cooling?.length ?? 0) + released.length !== cool.cooling.length;
  const out: AllocationStep = {
    allocations: [...kept, ...granted],
    cooling: cool.cooling,
    granted,
    released,
    expired: cool.expired,
    waiting,
    changed: granted.length > 0 || released.length > 0 || droppedCooling,
  };
  if (cool.nextExpiryMs !== undefined) out.nextExpiryMs = cool.nextExpiryMs;
  return out;
}

/** Per-ENI used/free and the summary, from the record. */
export function withCounts(status: EniPoolStatus): EniPoolStatus {
  const used = new Set((status.allocations ?? []).map((a) => a.ip));
  const cooling = new Set((status.cooling ?? []).map((c) => c.ip));
  let addresses = 0;
  let u = 0;
  let c = 0;
  const enis = (status.enis ?? []).map((e) => {
    const ips = e.secondaryIps ?? [];
    const eu = ips.filter((ip) => used.has(ip)).length;
    const ec = ips.filter((ip) => cooling.has(ip) && !used.has(ip)).length;
    addresses += ips.length;
    u += eu;
    c += ec;
    return { ...e, used: eu, free: ips.length - eu - ec };
  });
  return { ...status, enis, summary: { enis: enis.length, addresses, used: u, free: addresses - u - c, cooling: c } };
}

/** The pool's capacity as recorded in status (undefined before the pool controller recorded it). */
export function recordedCapacity(spec: EniPoolSpec, status: EniPoolStatus | undefined): PoolCapacity | undefined {
  const c = status?.capacity;
  if (!c?.maxEnis || !c.ipsPerEni) return undefined;
  return capacityOf({ maxEnis: c.maxEnis, ipv4PerEni: c.ipsPerEni }, spec.maxPodAddresses);
}

/** The pool plan from the record alone: what growth or shrinking the recorded state calls for. */
export function planFromStatus(spec: EniPoolSpec, status: EniPoolStatus, waiting: number, capacity: PoolCapacity, reservedDeviceIndexes?: readonly number[]): PoolPlan {
  return planPool({
    reservedDeviceIndexes,
    enis: poolEnisOf(status.enis),
    used: new Set((status.allocations ?? []).map((a) => a.ip)),
    cooling: new Set((status.cooling ?? []).map((c) => c.ip)),
    waiting,
    capacity,
    targets: { warmEni: spec.warmEni ?? 1, warmIp: spec.warmIp, minimumIp: spec.minimumIp, shrinkPolicy: spec.shrinkPolicy ?? 'Release' },
  });
}

/** Ready: no pod waits. The reason says why pods wait (limit reached, or the pool is growing). */
export function withReady(status: EniPoolStatus, o: { waiting: number; atLimit: boolean; limit: number; generation: number }): EniPoolStatus {
  // No counts while nobody waits (they are in the summary): an allocation then leaves the conditions
  // alone, which keeps the allocator's status write small.
  const s = status.summary ?? {};
  const message = o.waiting ? `${o.waiting} pod(s) waiting; ${s.used ?? 0}/${o.limit} addresses used, ${s.free ?? 0} free, ${s.cooling ?? 0} cooling on ${s.enis ?? 0} ENI(s)` : 'every pod on the node has an address';
  const reason = o.waiting === 0 ? 'PoolReady' : o.atLimit ? 'AddressLimitReached' : 'PoolGrowing';
  return { ...status, conditions: setConditions(status.conditions as Condition[] | undefined, [readyCondition(o.waiting === 0, reason, message, o.generation)]) };
}

export interface Removal {
  eniId: string;
  ips: string[];
}

/**
 * Takes addresses (or whole ENIs) out of the record before they are given back to AWS, so no
 * allocation can pick them meanwhile. With `unlessHeld`, an address an allocation or a cooldown holds
 * in this (newest) record is left in place and dropped from the removal; a whole ENI is only removed
 * when none of its addresses is held. Returns the new status, what was actually removed, and `left`:
 * every address the removal takes (the single ones and those of whole ENIs), which must not be handed
 * out while the write of the new status is under way.
 */
export function withoutAddresses(
  status: EniPoolStatus,
  removals: readonly Removal[],
  wholeEnis: readonly string[],
  unlessHeld: boolean,
): { status: EniPoolStatus; removed: Removal[]; removedEnis: string[]; left: string[] } {
  const held = new Set([...(status.allocations ?? []).map((a) => a.ip), ...(status.cooling ?? []).map((c) => c.ip)]);
  const removed: Removal[] = [];
  const removedEnis: string[] = [];
  const drop = new Map<string, Set<string>>();
  for (const r of removals) {
    const ips = unlessHeld ? r.ips.filter((ip) => !held.has(ip)) : [...r.ips];
    if (ips.length === 0) continue;
    removed.push({ eniId: r.eniId, ips });
    drop.set(r.eniId, new Set(ips));
  }
  const enis: EniPoolEni[] = [];
  const left = removed.flatMap((r) => r.ips);
  for (const e of status.enis ?? []) {
    if (wholeEnis.includes(e.eniId) && !(e.secondaryIps ?? []).some((ip) => held.has(ip))) {
      removedEnis.push(e.eniId);
      left.push(...(e.secondaryIps ?? []));
      continue;
    }
    const d = drop.get(e.eniId);
    enis.push(d ? { ...e, secondaryIps: (e.secondaryIps ?? []).filter((ip) => !d.has(ip)) } : e);
  }
  return { status: withCounts({ ...status, enis }), removed, removedEnis, left };
}

export interface PendingMerge {
  /** The record with the pending grants added. */
  status: EniPoolStatus;
  /** Pending grants the record already holds (same pod, same address): no longer pending. */
  recorded: EniPoolAllocation[];
  /**
   * Pending grants the record contradicts (the pod recorded with another address, or the address held
   * by another pod, cooling down, or no longer on an ENI of the pool): the record wins, and the pod is
   * given an address again from it.
   */
  conflicts: EniPoolAllocation[];
}

/**
 * The record as this process knows it: EniPool status plus the grants it has annotated on pods and
 * not recorded yet (the annotate-first path, or annotations adopted after a crash).
 */
export function withPending(status: EniPoolStatus, pending: readonly EniPoolAllocation[]): PendingMerge {
  if (pending.length === 0) return { status, recorded: [], conflicts: [] };
  const allocations = status.allocations ?? [];
  const byUid = new Map(allocations.map((a) => [a.podUid, a]));
  const held = new Set([...allocations.map((a) => a.ip), ...(status.cooling ?? []).map((c) => c.ip)]);
  const inPool = new Set((status.enis ?? []).flatMap((e) => e.secondaryIps ?? []));
  const merged: EniPoolAllocation[] = [];
  const recorded: EniPoolAllocation[] = [];
  const conflicts: EniPoolAllocation[] = [];
  for (const p of pending) {
    const r = byUid.get(p.podUid);
    if (r) (r.ip === p.ip ? recorded : conflicts).push(p);
    else if (held.has(p.ip) || !inPool.has(p.ip)) conflicts.push(p);
    else {
      held.add(p.ip);
      merged.push(p);
    }
  }
  if (merged.length === 0) return { status, recorded, conflicts };
  return { status: withCounts({ ...status, allocations: [...allocations, ...merged] }), recorded, conflicts };
}
