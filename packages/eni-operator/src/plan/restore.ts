// Pure: addresses pods hold that are gone from the pool's ENIs in AWS (someone outside the operator
// unassigned them, or deleted their ENI) are assigned back, to the same ENI when it is still the
// pool's and has room, otherwise to another ENI of the pool whose subnet contains the address. An
// address another ENI holds now (moto hands a held address out again as a new ENI's primary) stays
// where it is: the planner counts it, and the pod keeps it.
import type { EniPoolAllocation } from '@kube-iaas/crds';
import type { PoolAction } from './pool.ts';

export interface RestoreEni {
  eniId: string;
  deviceIndex: number;
  secondaryIps: readonly string[];
  /** CIDR of the ENI's subnet, when known. */
  subnetCidr?: string | undefined;
}

/** True when the IPv4 `ip` is inside `cidr`. */
export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const n = (s: string) => s.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const width = Number(bits);
  if (!base || !Number.isInteger(width) || width < 0 || width > 32) return false;
  const size = 2 ** (32 - width);
  return Math.floor(n(ip) / size) === Math.floor(n(base) / size);
}

/**
 * The assignments that give held addresses back to the pool's ENIs. `listed`: every address any ENI in
 * the pool's subnets lists (ours included, primaries included); `perEni`: secondary addresses an ENI may hold.
 */
export function restorations(allocations: readonly EniPoolAllocation[], enis: readonly RestoreEni[], listed: ReadonlySet<string>, perEni: number): PoolAction[] {
  const room = new Map(enis.map((e) => [e.eniId, perEni - e.secondaryIps.length]));
  const byEni = new Map<string, string[]>();
  const ordered = [...enis].sort((a, b) => a.deviceIndex - b.deviceIndex);
  for (const a of allocations) {
    if (listed.has(a.ip)) continue;
    const fits = (e: RestoreEni) => (room.get(e.eniId) ?? 0) > 0 && (!e.subnetCidr || inCidr(a.ip, e.subnetCidr));
    const same = enis.find((e) => e.eniId === a.eniId);
    const target = same && fits(same) ? same : ordered.find(fits);
    if (!target) continue;
    room.set(target.eniId, (room.get(target.eniId) ?? 0) - 1);
    byEni.set(target.eniId, [...(byEni.get(target.eniId) ?? []), a.ip]);
  }
  return [...byEni].map(([eniId, ips]) => ({ op: 'assignIps' as const, eniId, count: ips.length, ips }));
}
