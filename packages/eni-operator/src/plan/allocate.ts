// Pure address allocation: which free address a pod gets, which allocations end with their pods,
// which cooling addresses may be handed out again. An address is never given to two pods: a free
// address is one on an ENI of the pool that no allocation and no cooling entry holds.
import type { EniPoolAllocation, EniPoolCoolingAddress } from '@kube-iaas/crds';
import type { PoolEni } from './pool.ts';

export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
}

/** Policy-routing table of an ENI's addresses: main (254) for the primary ENI, device index + 1 otherwise. */
export function routeTableOf(deviceIndex: number): number {
  return deviceIndex === 0 ? 254 : deviceIndex + 1;
}

function ipKey(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

/** Free addresses in hand-out order: lowest device index first, then lowest address. */
export function freeAddresses(enis: readonly PoolEni[], allocations: readonly EniPoolAllocation[], cooling: readonly EniPoolCoolingAddress[]): { ip: string; eni: PoolEni }[] {
  const held = new Set([...allocations.map((a) => a.ip), ...cooling.map((c) => c.ip)]);
  const out: { ip: string; eni: PoolEni }[] = [];
  for (const eni of [...enis].sort((a, b) => a.deviceIndex - b.deviceIndex)) {
    for (const ip of [...eni.secondaryIps].sort((a, b) => ipKey(a) - ipKey(b))) {
      if (held.has(ip)) continue;
      held.add(ip); // an address listed on two ENIs (see dedupeEnis) is still handed out once
      out.push({ ip, eni });
    }
  }
  return out;
}

export interface AllocateResult {
  granted: EniPoolAllocation[];
  /** Pods left without an address (the pool is empty or at its limit). */
  waiting: PodRef[];
}

/** Gives each pod (in order) the next free address; pods that already hold one are skipped. */
export function allocate(
  enis: readonly PoolEni[],
  allocations: readonly EniPoolAllocation[],
  cooling: readonly EniPoolCoolingAddress[],
  pods: readonly PodRef[],
  now: Date,
): AllocateResult {
  const holders = new Set(allocations.map((a) => a.podUid));
  const free = freeAddresses(enis, allocations, cooling);
  const granted: EniPoolAllocation[] = [];
  const waiting: PodRef[] = [];
  for (const p of pods) {
    if (holders.has(p.uid)) continue;
    const next = free.shift();
    if (!next) {
      waiting.push(p);
      continue;
    }
    holders.add(p.uid);
    granted.push({
      ip: next.ip,
      eniId: next.eni.eniId,
      deviceIndex: next.eni.deviceIndex,
      routeTable: routeTableOf(next.eni.deviceIndex),
      podNamespace: p.namespace,
      podName: p.name,
      podUid: p.uid,
      allocatedAt: now.toISOString(),
    });
  }
  return { granted, waiting };
}

/** Ends the allocations whose pod is gone or finished; their addresses start cooling down. */
export function release(allocations: readonly EniPoolAllocation[], alive: (a: EniPoolAllocation) => boolean, now: Date): { kept: EniPoolAllocation[]; released: EniPoolCoolingAddress[] } {
  const kept: EniPoolAllocation[] = [];
  const released: EniPoolCoolingAddress[] = [];
  for (const a of allocations) {
    if (alive(a)) kept.push(a);
    else released.push({ ip: a.ip, eniId: a.eniId, releasedAt: now.toISOString() });
  }
  return { kept, released };
}

/** Splits cooling addresses into those still resting and those whose cooldown is over. */
export function expireCooling(cooling: readonly EniPoolCoolingAddress[], cooldownMs: number, now: Date): { cooling: EniPoolCoolingAddress[]; expired: EniPoolCoolingAddress[]; nextExpiryMs?: number } {
  const still: EniPoolCoolingAddress[] = [];
  const expired: EniPoolCoolingAddress[] = [];
  let next: number | undefined;
  for (const c of cooling) {
    const until = Date.parse(c.releasedAt) + cooldownMs;
    if (!(until > now.getTime())) expired.push(c);
    else {
      still.push(c);
      const left = until - now.getTime();
      next = next === undefined ? left : Math.min(next, left);
    }
  }
  return next === undefined ? { cooling: still, expired } : { cooling: still, expired, nextExpiryMs: next };
}
