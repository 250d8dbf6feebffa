// Pure: the cluster's shared backend security group and the few rules that let it reach the nodes.
// Every NLB the operator creates carries this group besides its own frontend group, so the node
// group needs one rule per protocol and allowed port range, referencing the backend group, however
// many load balancers and client CIDRs the tenants have. Client traffic and health checks both reach
// the targets from the NLB, whose groups are what the node group's rule matches.
import { nameTag, ownedTags, ownerDescription, type OwnerRef, type Tags } from '@kube-iaas/core/tags';
import { formatRange, type PortPolicy, type PortRange } from './ports.ts';

/**
 * The owner recorded on the backend group and its rules: not a NetworkLoadBalancer (no CR's deletion
 * or the orphan sweep may take them away while other load balancers rely on them).
 */
export const BACKEND_OWNER: OwnerRef = { kind: 'NetworkLoadBalancerBackend', name: 'shared', uid: 'shared' };

export function backendGroupName(cluster: string): string {
  return `k8s-${cluster}-nlb-backend`.slice(0, 255);
}

export function backendGroupTags(cluster: string): Tags {
  return ownedTags(cluster, BACKEND_OWNER, nameTag(backendGroupName(cluster)));
}

export function backendDescription(cluster: string): string {
  return ownerDescription(cluster, BACKEND_OWNER);
}

export interface BackendRule {
  groupId: string;
  protocol: 'tcp' | 'udp';
  fromPort: number;
  toPort: number;
}

/** An existing ingress rule of a node group, as far as this matters. */
export interface NodeGroupRule {
  id?: string | undefined;
  groupId: string;
  protocol: string;
  fromPort?: number | undefined;
  toPort?: number | undefined;
  referencedGroupId?: string | undefined;
}

/** The port ranges the node group opens to the backend group: the NodePort range and the extras. */
export function backendRanges(policy: PortPolicy): PortRange[] {
  const all = [policy.nodePortRange, ...policy.allowedTargetPorts].sort((a, b) => a.from - b.from);
  const out: PortRange[] = [];
  for (const r of all) {
    const last = out[out.length - 1];
    if (last && r.from <= last.to + 1) last.to = Math.max(last.to, r.to);
    else out.push({ ...r });
  }
  return out;
}

/**
 * The rules still missing on the node groups for `protocols`. A rule that already lets the backend
 * group reach a wider range (or every port) counts as present, whoever added it.
 */
export function missingBackendRules(
  nodeGroupIds: readonly string[],
  backendGroupId: string,
  protocols: ReadonlySet<'tcp' | 'udp'>,
  policy: PortPolicy,
  existing: readonly NodeGroupRule[],
): BackendRule[] {
  const out: BackendRule[] = [];
  for (const groupId of nodeGroupIds) {
    for (const protocol of [...protocols].sort()) {
      for (const r of backendRanges(policy)) {
        const covered = existing.some(
          (e) =>
            e.groupId === groupId &&
            e.referencedGroupId === backendGroupId &&
            (e.protocol === '-1' || e.protocol === protocol) &&
            (e.protocol === '-1' || ((e.fromPort ?? 0) <= r.from && (e.toPort ?? 65535) >= r.to)),
        );
        if (!covered) out.push({ groupId, protocol, fromPort: r.from, toPort: r.to });
      }
    }
  }
  return out;
}

/**
 * Rules from the backend group over ports the policy no longer allows (a port taken out of
 * --allowed-target-ports, a narrower --node-port-range). Only the operator refers to the backend group,
 * so every rule naming it is the operator's.
 */
export function staleBackendRules(nodeGroupIds: readonly string[], backendGroupId: string, policy: PortPolicy, existing: readonly NodeGroupRule[]): NodeGroupRule[] {
  const wanted = backendRanges(policy);
  return existing.filter(
    (e) =>
      nodeGroupIds.includes(e.groupId) &&
      e.referencedGroupId === backendGroupId &&
      !wanted.some((r) => (e.protocol === 'tcp' || e.protocol === 'udp') && e.fromPort === r.from && e.toPort === r.to),
  );
}

export function describeBackendRule(r: BackendRule): string {
  return `${r.protocol}/${formatRange({ from: r.fromPort, to: r.toPort })}`;
}
