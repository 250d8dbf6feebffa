// Deterministic AWS names: the same CR always asks for the same names, a second fence against duplicates
// after a crash (the first is the owner-tag lookup before every create).
import { elbName, nameHash, namePart } from '@kube-iaas/core';

export interface NameInputs {
  cluster: string;
  namespace: string;
  name: string;
  uid: string;
  scheme: string;
}

/** `k8s-<ns>-<name>-<hash>`; the scheme is in the hash, so a scheme change makes a new ALB beside the old one. */
export function loadBalancerName(i: NameInputs): string {
  return elbName(i.namespace, i.name, [i.cluster, i.namespace, i.name, i.uid, i.scheme]);
}

/**
 * One target group per spec entry. What AWS cannot change (protocol, port) and the scheme (a target group
 * serves one load balancer) are in the hash, so a change makes a new group.
 */
export function targetGroupName(i: NameInputs & { key: string; protocol: string; port: number }): string {
  return elbName(i.namespace, i.key, [i.cluster, i.namespace, i.name, i.uid, i.scheme, i.key, i.protocol, i.port]);
}

/** Name of the security group we create for the ALB (255 characters allowed; no `sg-` prefix). */
export function securityGroupName(i: NameInputs): string {
  return `k8s-alb-${namePart(i.namespace, 40)}-${namePart(i.name, 60)}-${nameHash([i.cluster, i.namespace, i.name, i.uid])}`;
}
