// What both controllers share: the ApplicationLoadBalancer as the runtime addresses it, the condition
// stage 1 writes, and which Nodes are targets.
import type { V1Node } from '@kubernetes/client-node';
import { APPLICATION_LOAD_BALANCER, type ApplicationLoadBalancer } from '@kube-iaas/crds';
import { instanceIdOfNode } from '@kube-iaas/core/aws';
import { isKubeConflict, type Reconciler } from '@kube-iaas/core/runtime';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../constants.ts';

export const ALB_RESOURCE = {
  apiVersion: APPLICATION_LOAD_BALANCER.apiVersion,
  kind: APPLICATION_LOAD_BALANCER.kind,
  plural: APPLICATION_LOAD_BALANCER.plural,
  namespaced: true,
} as const;

/** Condition stage 1 writes on the CR: whether every member Ingress could be translated. */
export const ACCEPTED = 'Accepted';

/** Kubernetes well-known label that keeps a Node out of every load balancer. */
export const EXCLUDE_FROM_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

/** True when the CR was written by this operator from Ingresses (not applied by hand). */
export function translatedFromIngresses(cr: ApplicationLoadBalancer): boolean {
  return cr.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE;
}

/** The instance ID in a Node's providerID, if it is an EC2 instance (core's one providerID parser). */
export const instanceIdOf = (node: V1Node): string | undefined => instanceIdOfNode(node);

export function isNodeReady(node: V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/**
 * The instances behind every ALB: each Ready Node with an AWS providerID, except Nodes being deleted or
 * labelled node.kubernetes.io/exclude-from-external-load-balancers. Sorted, unique.
 */
export function targetInstances(nodes: readonly V1Node[]): string[] {
  const ids = new Set<string>();
  for (const n of nodes) {
    if (n.metadata?.deletionTimestamp) continue;
    if (n.metadata?.labels?.[EXCLUDE_FROM_LB_LABEL] !== undefined) continue;
    if (!isNodeReady(n)) continue;
    const id = instanceIdOf(n);
    if (id) ids.add(id);
  }
  return [...ids].sort();
}

/** True when a Node change can change the targets. */
export function targetRelevant(a: V1Node, b: V1Node | undefined): boolean {
  if (!b) return true;
  return (
    instanceIdOf(a) !== instanceIdOf(b) ||
    isNodeReady(a) !== isNodeReady(b) ||
    (a.metadata?.labels?.[EXCLUDE_FROM_LB_LABEL] !== undefined) !== (b.metadata?.labels?.[EXCLUDE_FROM_LB_LABEL] !== undefined) ||
    !!a.metadata?.deletionTimestamp !== !!b.metadata?.deletionTimestamp
  );
}

/**
 * Both stages write the CR (finalizer, spec, status) from their caches, optimistically: a write over a
 * newer version is refused with 409. That is not a failure worth the work queue's exponential backoff —
 * the newer version is already on its way to the cache — so the key is simply looked at again shortly.
 */
export function conflictsRequeueSoon(reconcile: Reconciler, delayMs = 250): Reconciler {
  return async (key, ctx) => {
    try {
      return await reconcile(key, ctx);
    } catch (e) {
      if (isKubeConflict(e)) {
        ctx.log.debug({ err: e }, 'write conflict; looking again shortly');
        return { requeueAfter: delayMs };
      }
      throw e;
    }
  };
}
