// Stage 1: keeps each Node's EniPool equal to its translation. The pool is created once with the
// cluster-wide defaults; afterwards only what the Node decides (instance type) is kept in step, so
// warm targets edited on the pool by hand stay. A Node that cannot be translated gets a Warning Event.
// A hand-applied EniPool (no controller owner) is left to its author. Deleting the Node deletes the
// pool through its ownerReference (garbage collector); the pool's finalizer removes its ENIs first.
import type { V1Node } from '@kubernetes/client-node';
import type { EniPool } from '@kube-iaas/crds';
import {
  controllerOf,
  isBeingDeleted,
  isKubeAlreadyExists,
  resources,
  type EventRecorder,
  type Informer,
  type KubeClient,
  type ReconcileContext,
  type ReconcileResult,
} from '@kube-iaas/core/runtime';
import { ENI_POOL_RESOURCE } from '../constants.ts';
import { formatTranslateErrors, translateNode, type PoolDefaults } from '../translate/index.ts';

export interface NodeControllerDeps {
  client: KubeClient;
  nodes: Informer<V1Node>;
  pools: Informer<EniPool>;
  events: EventRecorder;
  defaults: PoolDefaults;
}

export function nodeReconciler(deps: NodeControllerDeps) {
  return async (key: string, ctx: ReconcileContext): Promise<ReconcileResult> => {
    const node = deps.nodes.get(key);
    const pool = deps.pools.get(key);
    if (!node?.metadata?.name || isBeingDeleted(node)) return; // the garbage collector takes the pool
    const owned = pool ? controllerOf(pool) : undefined;
    if (pool && owned?.kind === 'Node' && owned.uid !== node.metadata.uid) {
      // A Node of the same name replaced an older one: the old pool goes, then a new one is made.
      if (!isBeingDeleted(pool)) await deps.client.delete(ENI_POOL_RESOURCE, { name: key });
      return { requeueAfter: 1_000 };
    }
    if (pool && !owned) return; // applied by hand: reconciled as it is
    const r = translateNode(node, deps.defaults);
    if (!r.ok) {
      const message = formatTranslateErrors(r.errors);
      deps.events.warning(node, 'InvalidNode', `no EniPool for this node: ${message}`, { type: resources.Node });
      ctx.log.warn({ errors: r.errors }, 'Node cannot be translated');
      return;
    }
    if (!pool) {
      try {
        await deps.client.create(ENI_POOL_RESOURCE, r.pool);
      } catch (e) {
        if (isKubeAlreadyExists(e)) return { requeueAfter: 500 };
        throw e;
      }
      deps.events.normal(node, 'CreatedEniPool', `created EniPool ${key} (${r.pool.spec.instanceType}, ${r.pool.spec.instanceId})`, { type: resources.Node });
      return;
    }
    if (isBeingDeleted(pool)) return { requeueAfter: 2_000 };
    if (pool.spec.instanceType !== r.pool.spec.instanceType) {
      await deps.client.patch(ENI_POOL_RESOURCE, { name: key }, { spec: { instanceType: r.pool.spec.instanceType } });
    }
    return;
  };
}
