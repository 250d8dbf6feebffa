// Pure: which EniPool holds an instance. An instance has one pool, because a pool treats the
// addresses of the instance's primary ENI and of its own ENIs as free unless its own record says a pod
// holds them: a second pool on the same instance would give back addresses the first one's pods use.
//
// The rule, first match wins:
// 1. The instance is a Node's (its spec.providerID names it): the pool named after that Node holds it,
//    created from the Node or applied by hand under the Node's name. It is the only pool whose
//    allocator serves that Node's pods (the allocator is keyed by the Node's name), and the only one the
//    Node would have produced; this holds whether that pool exists yet or not and whatever order the
//    pools were created in. Two Nodes naming one instance: the older Node.
// 2. No Node has it: the pool whose owner tags (kind, name and UID) are on an ENI attached to the
//    instance — the first owner, as AWS records it — the oldest of them if several.
// 3. Otherwise the oldest pool naming it (creationTimestamp, then name).
// Pools being deleted still count: their finalizer may still be giving their ENIs back.

export interface ClaimNode {
  name: string;
  createdAt?: string | undefined;
}

export interface ClaimPool {
  name: string;
  uid: string;
  createdAt?: string | undefined;
}

export interface ClaimInput {
  instanceId: string;
  /** Nodes whose providerID names the instance. */
  nodes: readonly ClaimNode[];
  /** EniPools whose spec.instanceId names it (the one asking included). */
  pools: readonly ClaimPool[];
  /** Owner UIDs of EniPools found in the tags of the ENIs attached to the instance. */
  taggedUids: ReadonlySet<string>;
}

export interface InstanceClaim {
  /** Name of the EniPool that holds the instance (for rule 1 it may not exist yet). */
  holder: string;
  /** Why, for the Conflict message. */
  why: string;
}

const byAge = (a: { name: string; createdAt?: string | undefined }, b: { name: string; createdAt?: string | undefined }): number =>
  time(a.createdAt) - time(b.createdAt) || a.name.localeCompare(b.name);

function time(t: string | undefined): number {
  const ms = t ? Date.parse(t) : NaN;
  return Number.isNaN(ms) ? Number.MAX_SAFE_INTEGER : ms;
}

/** The pool that holds the instance, or undefined when no pool names it and no Node has it. */
export function instanceHolder(input: ClaimInput): InstanceClaim | undefined {
  const node = [...input.nodes].sort(byAge)[0];
  if (node) return { holder: node.name, why: `the instance is Node ${node.name}'s, and only the EniPool named after a Node manages its instance` };
  const tagged = input.pools.filter((p) => input.taggedUids.has(p.uid)).sort(byAge)[0];
  if (tagged) return { holder: tagged.name, why: `its ENIs on the instance carry EniPool ${tagged.name}'s owner tags` };
  const oldest = [...input.pools].sort(byAge)[0];
  if (oldest) return { holder: oldest.name, why: `EniPool ${oldest.name} is the oldest pool naming the instance` };
  return undefined;
}

/**
 * The Conflict condition's message for a pool that does not hold its instance, or undefined when it
 * holds it.
 */
export function conflictMessage(pool: string, input: ClaimInput): { holder: string; message: string } | undefined {
  const claim = instanceHolder(input);
  if (!claim || claim.holder === pool) return undefined;
  return {
    holder: claim.holder,
    message: `spec.instanceId: instance ${input.instanceId} is held by EniPool ${claim.holder} (${claim.why}); this pool makes no AWS change and hands out no address while it is`,
  };
}

/** Whether the holder can be decided without the ENIs' owner tags (no AWS read needed). */
export function decidedWithoutTags(input: Pick<ClaimInput, 'nodes' | 'pools'>): boolean {
  return input.nodes.length > 0 || input.pools.length <= 1;
}
