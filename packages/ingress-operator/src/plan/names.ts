// Deterministic AWS names (packages/elbv2's scheme): the same CR always asks for the same names, a second
// fence against duplicates after a crash (the first is the owner-tag lookup before every create).
import { elbName, nameHash, namePart, type NameInputs } from '@kube-iaas/elbv2';

export { loadBalancerName, type NameInputs } from '@kube-iaas/elbv2';

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
