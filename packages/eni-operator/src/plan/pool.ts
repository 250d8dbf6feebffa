// Pure pool planning: from the ENIs on the instance, the addresses held by pods or cooling down, the
// pods waiting and the warm targets, decide which ENI to create (at which device index, with how
// many addresses), which ENI gets more addresses, and which addresses or whole ENIs go back to the
// subnet. Never past the instance type's limits, never an address in use or cooling down.
import type { PoolCapacity } from './capacity.ts';

export interface PoolEni {
  eniId: string;
  /** 0 is the instance's primary ENI: it holds pod addresses too, but is never deleted. */
  deviceIndex: number;
  secondaryIps: readonly string[];
}

export interface PoolTargets {
  /** Spare ENIs' worth of free addresses (ignored when warmIp or minimumIp is set). */
  warmEni: number;
  warmIp?: number | undefined;
  minimumIp?: number | undefined;
  shrinkPolicy: 'Release' | 'Keep';
}

export interface PoolInput {
  enis: readonly PoolEni[];
  /** Addresses held by pods. */
  used: ReadonlySet<string>;
  /** Addresses released by pods and still cooling down. */
  cooling: ReadonlySet<string>;
  /** Pods on the node still waiting for an address. */
  waiting: number;
  capacity: PoolCapacity;
  targets: PoolTargets;
  /** Device indexes ENIs that are not the pool's take on the instance (never planned over). */
  reservedDeviceIndexes?: readonly number[] | undefined;
}

export type PoolAction =
  | { op: 'createEni'; deviceIndex: number; ipCount: number }
  | { op: 'assignIps'; eniId: string; count: number; /** These addresses (restoring ones pods hold), rather than any `count`. */ ips?: string[] }
  | { op: 'unassignIps'; eniId: string; ips: string[] }
  | { op: 'deleteEni'; eniId: string };

export interface PoolPlan {
  /** Addresses the pool should hold after the plan. */
  desired: number;
  /** Addresses it holds now. */
  total: number;
  actions: PoolAction[];
  /** True when demand is above what the instance type (or maxPodAddresses) allows. */
  atLimit: boolean;
}

/** True when the warm target is counted in single addresses (warmIp / minimumIp) rather than ENIs. */
export function ipMode(t: PoolTargets): boolean {
  return (t.warmIp ?? 0) > 0 || (t.minimumIp ?? 0) > 0;
}

/** Addresses the pool should hold: demand plus the warm target, within the limit. */
export function desiredAddresses(input: Pick<PoolInput, 'used' | 'cooling' | 'waiting' | 'capacity' | 'targets'>): { desired: number; atLimit: boolean } {
  const perEni = input.capacity.ipsPerEni - 1;
  const held = input.used.size + input.cooling.size + input.waiting;
  const t = input.targets;
  let want: number;
  if (ipMode(t)) {
    want = Math.max(held + (t.warmIp ?? 0), t.minimumIp ?? 0);
  } else {
    // Whole ENIs, as the VPC CNI's WARM_ENI_TARGET: enough full ENIs for demand plus warmEni spare ones.
    want = perEni <= 0 ? 0 : Math.ceil((held + t.warmEni * perEni) / perEni) * perEni;
  }
  const limit = input.capacity.limit;
  return { desired: Math.min(want, limit), atLimit: held > limit || (held === limit && input.waiting > 0) };
}

export function planPool(input: PoolInput): PoolPlan {
  const perEni = input.capacity.ipsPerEni - 1;
  const enis = [...input.enis].sort((a, b) => a.deviceIndex - b.deviceIndex);
  // An address a pod holds that no ENI lists any more (moto gave it to another ENI as its primary)
  // still takes a place: counting it keeps the pool, and so the pods served, within the limit.
  const listed = new Set(enis.flatMap((e) => e.secondaryIps));
  const stranded = [...input.used].filter((ip) => !listed.has(ip)).length;
  const total = enis.reduce((n, e) => n + e.secondaryIps.length, 0) + stranded;
  const { desired, atLimit } = desiredAddresses(input);
  const actions: PoolAction[] = [];

  if (total < desired) {
    let need = desired - total;
    for (const e of enis) {
      if (need <= 0) break;
      const room = perEni - e.secondaryIps.length;
      if (room <= 0) continue;
      const n = Math.min(room, need);
      actions.push({ op: 'assignIps', eniId: e.eniId, count: n });
      need -= n;
    }
    const taken = new Set([...enis.map((e) => e.deviceIndex), ...(input.reservedDeviceIndexes ?? [])]);
    for (let idx = 1; idx < input.capacity.maxEnis && need > 0; idx++) {
      if (taken.has(idx)) continue;
      const n = Math.min(perEni, need);
      actions.push({ op: 'createEni', deviceIndex: idx, ipCount: n });
      need -= n;
    }
    return { desired, total, actions, atLimit };
  }

  if (total > desired && input.targets.shrinkPolicy === 'Release') {
    let excess = total - desired;
    const busy = (ip: string) => input.used.has(ip) || input.cooling.has(ip);
    // Whole idle secondary ENIs first, the highest device index first.
    for (const e of [...enis].reverse()) {
      if (e.deviceIndex === 0 || excess <= 0) continue;
      if (e.secondaryIps.some(busy)) continue;
      if (e.secondaryIps.length > excess) continue;
      actions.push({ op: 'deleteEni', eniId: e.eniId });
      excess -= e.secondaryIps.length;
    }
    // Single addresses only when the target is counted in addresses.
    if (ipMode(input.targets)) {
      const deleted = new Set(actions.map((a) => (a.op === 'deleteEni' ? a.eniId : '')));
      for (const e of [...enis].reverse()) {
        if (excess <= 0) break;
        if (deleted.has(e.eniId)) continue;
        const free = e.secondaryIps.filter((ip) => !busy(ip));
        const ips = free.slice(Math.max(0, free.length - excess));
        if (ips.length === 0) continue;
        actions.push({ op: 'unassignIps', eniId: e.eniId, ips });
        excess -= ips.length;
      }
    }
  }
  return { desired, total, actions, atLimit };
}

/** The device index the instance's next ENI goes to: the smallest free one, or undefined at the limit. */
export function nextDeviceIndex(taken: Iterable<number>, maxEnis: number): number | undefined {
  const set = new Set(taken);
  for (let i = 1; i < maxEnis; i++) if (!set.has(i)) return i;
  return undefined;
}

/**
 * AWS keeps five addresses of every subnet for itself (the network address, the router at + 1, DNS at + 2,
 * + 3, and the last): it never hands them out; moto does. Such an address would shadow the subnet's gateway
 * on a node, so it is released like a repeated one (`reserved` of dedupeEnis).
 */
export function awsReservedAddress(ip: string, cidr: string): boolean {
  const n = (s: string): number => s.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const [base, bits] = cidr.split('/') as [string, string];
  const size = 2 ** (32 - Number(bits));
  const off = n(ip) - n(base);
  return off >= 0 && off < size && (off <= 3 || off === size - 1);
}

/**
 * An address must belong to one ENI. AWS guarantees it; the moto emulator does not (it picks
 * secondary addresses at random and can repeat one across ENIs). The lowest device index keeps the
 * address; the copies on other ENIs are returned for release and left out of planning. A secondary
 * equal to a primary address in `primaryIps` (moto has handed out a node's own IP) is left out of
 * planning too but not released: what moto would unassign then is not certain, and the primary
 * address must never go. Addresses in `reserved` (AWS-reserved ones moto handed out) are released too.
 */
export function dedupeEnis(enis: readonly PoolEni[], primaryIps: Iterable<string> = [], reserved: ReadonlySet<string> = new Set()): { enis: PoolEni[]; duplicates: { eniId: string; ips: string[] }[] } {
  const primaries = new Set<string>(primaryIps);
  const seen = new Set<string>();
  const out: PoolEni[] = [];
  const duplicates: { eniId: string; ips: string[] }[] = [];
  for (const e of [...enis].sort((a, b) => a.deviceIndex - b.deviceIndex)) {
    const keep: string[] = [];
    const dup: string[] = [];
    for (const ip of e.secondaryIps) {
      if (primaries.has(ip)) continue;
      (seen.has(ip) || reserved.has(ip) ? dup : keep).push(ip);
    }
    for (const ip of keep) seen.add(ip);
    out.push({ ...e, secondaryIps: keep });
    if (dup.length) duplicates.push({ eniId: e.eniId, ips: dup });
  }
  return { enis: out, duplicates };
}
