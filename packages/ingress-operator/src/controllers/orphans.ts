// Pure choices of the orphan sweep (see sweep.ts): which owners are suspects, and the order their
// resources are deleted in.
import type { Action } from '../plan/index.ts';

/** An AWS resource found by tags (or, for a rule, by its description) with the owner it names. */
export interface Found {
  owner: { namespace: string; name: string; uid: string | undefined };
  action: Action;
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

/** Pure: per orphaned owner, its deletions in dependency order (ALB, target groups, rules, security groups). */
export function orphanPlans(found: readonly Found[], orphans: readonly OwnerKey[]): Array<{ owner: OwnerKey; actions: Action[] }> {
  const rank: Partial<Record<Action['op'], number>> = { deleteLoadBalancer: 0, deleteTargetGroup: 1, revokeBackend: 2, deleteSecurityGroup: 3 };
  return orphans.map((o) => {
    const mine = found.filter((f) => ownerId(f.owner) === ownerId(o)).map((f) => f.action);
    const rules = mine.flatMap((a) => (a.op === 'revokeBackend' ? a.rules : []));
    const rest = mine.filter((a) => a.op !== 'revokeBackend');
    const actions = [...rest, ...(rules.length > 0 ? [{ op: 'revokeBackend', rules } as Action] : [])].sort((a, b) => (rank[a.op] ?? 9) - (rank[b.op] ?? 9));
    return { owner: o, actions };
  });
}
