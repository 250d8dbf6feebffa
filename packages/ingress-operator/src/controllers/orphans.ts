// Pure choice of the orphan sweep (see sweep.ts): which owners are suspects.

/** An ALB, target group or security group found by our tags, with the owner it names. */
export interface Found {
  owner: { namespace: string; name: string; uid: string | undefined };
  kind: 'loadbalancer' | 'targetgroup' | 'securitygroup';
  id: string;
}

export type OwnerKey = Found['owner'];
export const ownerId = (o: OwnerKey) => `${o.namespace}/${o.name}/${o.uid ?? ''}`;

/** Pure: owners named by what was found that the cache says are gone (or replaced by a new UID). */
export function suspectOwners(found: readonly Found[], live: (ns: string, name: string) => string | undefined): OwnerKey[] {
  const out = new Map<string, OwnerKey>();
  for (const f of found) {
    const uid = live(f.owner.namespace, f.owner.name);
    if (uid !== undefined && (f.owner.uid === undefined || uid === f.owner.uid)) continue;
    out.set(ownerId(f.owner), f.owner);
  }
  return [...out.values()];
}
