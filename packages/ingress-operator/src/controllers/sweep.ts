// The orphan sweep: ALBs, target groups and security groups tagged as made for an ApplicationLoadBalancer
// of this cluster whose CR no longer exists — or exists with another UID — are deleted, with the rules
// their security group holds on the node groups. Each suspect owner is confirmed with a live GET first
// (the informer cache alone never deletes); its actual state is then read exactly as stage 2 reads it
// for a deletion, and removed in the same dependency order, as that owner (the guard checks every tag).
import type { ApplicationLoadBalancer } from '@kube-iaas/crds';
import {
  OWNER_KIND_TAG,
  counter,
  describeSecurityGroups,
  matchesCluster,
  ownedByClusterFilters,
  taggedOwner,
  type AwsClients,
  type AwsEnvironment,
  type EventRecorder,
  type Informer,
  type KubeClient,
  type OwnerRef,
  type ReconcileContext,
  type ReconcileResult,
  type Tags,
} from '@kube-iaas/core';
import { applyPlan, readActual, type Inventory } from '../aws/index.ts';
import { ALB_KIND, planDeletion } from '../plan/index.ts';
import { ALB_RESOURCE } from './common.ts';
import { ownerId, suspectOwners, type Found, type OwnerKey } from './orphans.ts';

export { suspectOwners, type Found } from './orphans.ts';

export const SWEEP_KEY = 'orphan-sweep';

const collected = counter({ name: 'kube_iaas_ingress_orphans_collected_total', help: 'AWS resources of deleted ApplicationLoadBalancers removed by the orphan sweep', labelNames: ['kind'] as const });

export interface SweepDeps {
  client: KubeClient;
  clients: AwsClients;
  env: AwsEnvironment;
  inventory: Inventory;
  albs: Informer<ApplicationLoadBalancer>;
  events: EventRecorder;
  intervalMs: number;
}

/** Every ALB, target group and security group that says it was made for an ApplicationLoadBalancer of this cluster. */
async function findOurs(clients: AwsClients, inventory: Inventory): Promise<Found[]> {
  const { ec2, cluster } = clients;
  const ownerOfTags = (tags: Tags): OwnerKey | undefined => {
    const o = taggedOwner(tags);
    return o ? { namespace: o.namespace ?? '', name: o.name, uid: o.uid } : undefined;
  };
  await inventory.refresh();
  const out: Found[] = inventory.entries().map((e) => ({ owner: { namespace: e.owner.namespace ?? '', name: e.owner.name, uid: e.owner.uid }, kind: e.kind, id: e.arn }));
  const groups = await describeSecurityGroups(ec2, { filters: [...ownedByClusterFilters(cluster), { Name: `tag:${OWNER_KIND_TAG}`, Values: [ALB_KIND] }] });
  for (const g of groups) {
    const owner = matchesCluster(cluster)(g.tags) ? ownerOfTags(g.tags) : undefined;
    if (owner) out.push({ owner, kind: 'securitygroup', id: g.id });
  }
  return out;
}

export function sweepReconciler(deps: SweepDeps) {
  const { clients } = deps;
  return async (_key: string, ctx: ReconcileContext): Promise<ReconcileResult> => {
    const found = await findOurs(clients, deps.inventory);
    const cached = (ns: string, name: string) => deps.albs.getByName(name, ns)?.metadata?.uid;
    const orphans: OwnerKey[] = [];
    for (const o of suspectOwners(found, cached)) {
      const cr = await deps.client.get<ApplicationLoadBalancer>(ALB_RESOURCE, o.name, o.namespace);
      if (!cr || (o.uid !== undefined && cr.metadata?.uid !== o.uid)) orphans.push(o);
    }
    if (orphans.length === 0) return { requeueAfter: deps.intervalMs };

    const n = { loadbalancer: 0, targetgroup: 0, securitygroup: 0, rule: 0 };
    const nodeGroups = await deps.env.allClusterSecurityGroups();
    for (const o of orphans) {
      const owner: OwnerRef = { kind: ALB_KIND, namespace: o.namespace, name: o.name, uid: o.uid ?? '' };
      try {
        const actual = await readActual({ clients, owner, inventory: deps.inventory, nodeSecurityGroupIds: nodeGroups });
        await applyPlan(
          {
            clients,
            owner,
            actual,
            inventory: deps.inventory,
            logger: ctx.log,
            onApplied: (a) => {
              if (a.op === 'deleteLoadBalancer') n.loadbalancer++;
              else if (a.op === 'deleteTargetGroup') n.targetgroup++;
              else if (a.op === 'deleteSecurityGroup') n.securitygroup++;
              else if (a.op === 'revokeBackend') n.rule += a.rules.length;
            },
          },
          planDeletion(actual),
        );
      } catch (e) {
        // Whatever is left is found again by the next sweep.
        ctx.log.warn({ owner: ownerId(o), err: e }, 'orphan not fully collected yet');
      }
    }
    for (const [kind, count] of Object.entries(n)) if (count > 0) collected.inc({ kind }, count);
    if (Object.values(n).some((x) => x > 0)) {
      const what = `${n.loadbalancer} load balancer(s), ${n.targetgroup} target group(s), ${n.securitygroup} security group(s), ${n.rule} security-group rule(s)`;
      ctx.log.info({ orphans: orphans.map(ownerId), collected: n }, 'orphans collected');
      for (const ns of new Set(orphans.map((o) => o.namespace))) {
        deps.events.normal({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, 'OrphansCollected', `collected ${what} of deleted ApplicationLoadBalancers: ${orphans.filter((o) => o.namespace === ns).map((o) => o.name).join(', ')}`);
      }
    }
    return { requeueAfter: deps.intervalMs };
  };
}
