// Deterministic AWS names. A name is a second fence against duplicates after a crash (the first is the
// owner-tag lookup): the same CR always asks for the same names, and moto does not refuse duplicate
// load balancer names, so the operator must find before it creates.
import { elbName } from '@kube-iaas/core';

export interface NameInputs {
  cluster: string;
  namespace: string;
  name: string;
  uid: string;
  scheme: string;
}

/**
 * The generated load balancer name. It includes the scheme, so a scheme change creates the new NLB
 * beside the old one (make before break) instead of colliding with its name.
 */
/** `k8s-<ns≤8>-<name≤8>-<hash10>`. */
export function loadBalancerName(i: NameInputs): string {
  return elbName(i.namespace, i.name, [i.cluster, i.namespace, i.name, i.uid, i.scheme]);
}

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
