import { NODE_GROUP, type NodeGroup } from '@kube-iaas/crds';
import { DISCOVERED_ANNOTATION, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../constants.ts';

/** A valid NodeGroup name for an ASG name (DNS subdomain). */
export function nodeGroupNameFor(asgName: string): string {
  const s = asgName
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return (s || 'asg').slice(0, 253);
}

/** The NodeGroup discovery creates for a discovered ASG. */
export function discoveredNodeGroup(asgName: string): NodeGroup {
  return {
    apiVersion: NODE_GROUP.apiVersion,
    kind: 'NodeGroup',
    metadata: { name: nodeGroupNameFor(asgName), labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE }, annotations: { [DISCOVERED_ANNOTATION]: 'true' } },
    spec: { asgName },
  };
}

export interface DiscoveryPlan {
  create: NodeGroup[];
  /** Names of discovered NodeGroups whose ASG is gone or lost its discovery tags. */
  delete: string[];
}

/**
 * Stage 1, ASG → NodeGroup: one NodeGroup per discovered ASG, none for an ASG a NodeGroup (hand-made
 * or not) already names — it would only be in conflict. Discovered NodeGroups whose ASG is no longer
 * discoverable go; hand-made ones stay.
 */
export function planDiscovery(discoveredAsgs: readonly string[], existing: readonly NodeGroup[]): DiscoveryPlan {
  const wanted = new Map(discoveredAsgs.map((asg) => [nodeGroupNameFor(asg), asg]));
  const byName = new Set(existing.map((ng) => ng.metadata.name ?? ''));
  const claimed = new Set(existing.map((ng) => ng.spec.asgName));
  const create: NodeGroup[] = [];
  for (const [name, asg] of wanted) {
    if (byName.has(name) || claimed.has(asg)) continue;
    create.push(discoveredNodeGroup(asg));
  }
  const del = existing.filter((ng) => ng.metadata.annotations?.[DISCOVERED_ANNOTATION] === 'true' && !wanted.has(ng.metadata.name ?? '')).map((ng) => ng.metadata.name ?? '');
  return { create, delete: del };
}
