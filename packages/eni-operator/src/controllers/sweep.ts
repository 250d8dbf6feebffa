// Leaked ENIs: ENIs tagged by kube-iaas for this cluster as EniPool ENIs, `available`, older than a
// grace period, whose instance is gone or whose EniPool no longer exists, are deleted, with an Event
// and a metric. Runs on one key on a timer.
import type { EniPool } from '@kube-iaas/crds';
import { describeInstances, describeNetworkInterfaces, type AwsClients } from '@kube-iaas/core/aws';
import { eniInstanceOf, ownedByClusterFilters, taggedOwner } from '@kube-iaas/core/tags';
import { type EventRecorder, type Informer, type ReconcileContext, type ReconcileResult } from '@kube-iaas/core/runtime';
import { deleteEni } from '../aws/eni.ts';
import { poolMetrics } from './metrics.ts';

export const SWEEP_KEY = 'leaked-enis';

export interface SweepDeps {
  clients: AwsClients;
  pools: Informer<EniPool>;
  events: EventRecorder;
  intervalMs: number;
  graceMs: number;
}

export function sweepReconciler(deps: SweepDeps) {
  return async (_key: string, ctx: ReconcileContext): Promise<ReconcileResult> => {
    const ours = await describeNetworkInterfaces(deps.clients.ec2, { filters: [...ownedByClusterFilters(deps.clients.cluster), { Name: 'status', Values: ['available'] }] });
    const candidates = ours.filter((n) => {
      const owner = taggedOwner(n.tags);
      if (owner?.kind !== 'EniPool') return false;
      const created = eniInstanceOf(n.tags).createdAt;
      return !created || Date.now() - created.getTime() > deps.graceMs;
    });
    if (candidates.length === 0) return { requeueAfter: deps.intervalMs };
    const instanceIds = [...new Set(candidates.map((n) => eniInstanceOf(n.tags).instanceId).filter((x): x is string => !!x))];
    const live = new Set<string>();
    for (const id of instanceIds) {
      const [i] = await describeInstances(deps.clients.ec2, { ids: [id] }).catch(() => []);
      if (i && i.state !== 'terminated' && i.state !== 'shutting-down') live.add(id);
    }
    for (const n of candidates) {
      const owner = taggedOwner(n.tags);
      const pool = owner ? deps.pools.get(owner.name) : undefined;
      const listed = pool?.metadata.uid === owner?.uid && pool?.status?.enis?.some((e) => e.eniId === n.id);
      const instance = eniInstanceOf(n.tags).instanceId;
      if (listed && instance && live.has(instance)) continue;
      // In the owner scope of the pool the tags name: the guard checks the ENI is that pool's.
      await deleteEni(deps.clients, { kind: 'EniPool', name: owner?.name ?? '', uid: owner?.uid ?? '' }, n);
      poolMetrics.leakedEnis.inc();
      ctx.log.info({ eni: n.id, owner, instance }, 'leaked ENI deleted');
      if (pool) deps.events.normal(pool, 'LeakedEniDeleted', `deleted leaked ENI ${n.id} (available, instance ${instance ?? 'unknown'})`);
    }
    return { requeueAfter: deps.intervalMs };
  };
}
