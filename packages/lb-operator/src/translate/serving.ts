// Which NetworkLoadBalancer serves a Service, pure. A Service of ours is served by exactly one: the
// NetworkLoadBalancer it controls (ownerReference with controller: true and its UID), which stage 1
// created with the Service's own name. Any other NetworkLoadBalancer naming it in spec.serviceRef — a
// hand-applied one — would otherwise take the Service's hostname and NodePorts: more than the user who
// wrote it could get from a Service of their own. Such a resource is refused (ServiceConflict).
import type { V1Service } from '@kubernetes/client-node';
import type { NetworkLoadBalancer } from '@kube-iaas/crds';
import { controllerOf, isBeingDeleted } from '@kube-iaas/core';
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
