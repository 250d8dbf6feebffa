// Deterministic AWS names (packages/elbv2's scheme): the same CR always asks for the same names, a second
// fence against duplicates after a crash (the first is the owner-tag lookup).
import { elbName, type NameInputs } from '@kube-iaas/elbv2';

export { loadBalancerName, type NameInputs } from '@kube-iaas/elbv2';

/**
 * The target group name for one listener. Everything AWS cannot change on a target group (protocol,
 * port) is part of the name, as is the scheme (a target group serves one NLB), so a change makes a
 * new group and the old one is deleted once no listener uses it.
 */
export function targetGroupName(i: NameInputs & { listenerPort: number; protocol: string; targetPort: number }): string {
  return elbName(i.namespace, i.name, [i.cluster, i.namespace, i.name, i.uid, i.scheme, i.listenerPort, i.protocol, i.targetPort]);
}

/**
 * The name of the load balancer's frontend security group (unique per VPC, like the group). It does
 * not depend on the scheme: one group serves the CR across a replacement.
 */
export function frontendGroupName(i: Omit<NameInputs, 'scheme'>): string {
  return elbName(i.namespace, i.name, [i.cluster, i.namespace, i.name, i.uid, 'frontend']);
}
