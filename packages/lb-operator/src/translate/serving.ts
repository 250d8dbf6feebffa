// What a NetworkLoadBalancer may reach, pure: no more than the Service that would have produced it.
//
// A Service of ours is served by exactly one NetworkLoadBalancer: the one it controls (ownerReference
// with controller: true and its UID), which stage 1 created with the Service's own name. Any other
// naming it in spec.serviceRef — a hand-applied one — would otherwise take the Service's hostname and
// NodePorts: more than the user who wrote it could get from a Service of their own. Such a resource is
// refused (ServiceConflict). Likewise a Service only ever targets the cluster's Nodes, so explicit
// spec.targets.instanceIds must be instances of Nodes a Service could target.
import type { V1Node, V1Service } from '@kubernetes/client-node';
import type { NetworkLoadBalancer } from '@kube-iaas/crds';
import { controllerOf, isBeingDeleted } from '@kube-iaas/core/runtime';
import { EXCLUDE_FROM_LB_LABEL } from '../constants.ts';
import { instanceIdOf } from '../plan/desired.ts';
import { selectService } from './select.ts';

/** True when `cr` is the NetworkLoadBalancer stage 1 made for `svc` (and `svc` is still ours). */
export function servesService(cr: NetworkLoadBalancer, svc: V1Service): boolean {
  const ref = controllerOf(cr);
  return (
    !!selectService(svc) &&
    ref?.kind === 'Service' &&
    ref.uid === svc.metadata?.uid &&
    cr.metadata.name === svc.metadata?.name &&
    cr.metadata.namespace === svc.metadata?.namespace
  );
}

/**
 * Why `cr` may not use the Service its spec.serviceRef names, or undefined when it may. A Service this
 * operator serves belongs to its own NetworkLoadBalancer; any other Service (NodePort, or a
 * LoadBalancer of another class) only lends its NodePorts, which anyone who can read it could copy.
 * serviceRef has no namespace field, so only the CR's own namespace is ever looked at.
 */
export function serviceRefConflict(cr: NetworkLoadBalancer, svc: V1Service | undefined): string | undefined {
  if (!cr.spec.serviceRef || !svc || !selectService(svc)) return undefined;
  if (servesService(cr, svc)) return undefined;
  const key = `${svc.metadata?.namespace ?? ''}/${svc.metadata?.name ?? ''}`;
  return `spec.serviceRef: Service ${key} is served by the NetworkLoadBalancer it owns (${key}); another NetworkLoadBalancer may not serve it, so this one changes nothing in AWS or on the Service`;
}

/**
 * The hostname the Service's status should carry, from the NetworkLoadBalancer that serves it:
 * undefined = leave the status as it is (nothing known yet), null = clear it (the NLB is going away).
 */
export function serviceHostname(svc: V1Service, cr: NetworkLoadBalancer | undefined): string | null | undefined {
  if (!cr || !servesService(cr, svc)) return undefined;
  if (isBeingDeleted(cr)) return null;
  return cr.status?.dnsName || undefined;
}

/**
 * Why `cr`'s explicit instances may not be targets, or undefined: every one must be the instance of a
 * Node of this cluster not labelled node.kubernetes.io/exclude-from-external-load-balancers — the
 * instances a Service could reach. Otherwise a namespace could put any instance of the VPC (another
 * team's database, another cluster's node) behind a load balancer of its own.
 */
export function foreignInstances(cr: NetworkLoadBalancer, nodes: readonly V1Node[]): string | undefined {
  const ids = cr.spec.targets?.instanceIds;
  if (!ids?.length) return undefined;
  const allowed = new Set<string>();
  for (const n of nodes) {
    const id = instanceIdOf(n);
    if (id && n.metadata?.labels?.[EXCLUDE_FROM_LB_LABEL] === undefined) allowed.add(id);
  }
  const bad = ids.filter((id) => !allowed.has(id));
  if (bad.length === 0) return undefined;
  return `spec.targets.instanceIds: ${bad.join(', ')} ${bad.length === 1 ? 'is not the instance' : 'are not instances'} of a Node of this cluster that load balancers may target (a Service could not reach ${bad.length === 1 ? 'it' : 'them'} either)`;
}
