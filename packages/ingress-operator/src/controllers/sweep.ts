// The orphan sweep: ALBs, target groups and security groups tagged as made for an ApplicationLoadBalancer
// of this cluster whose CR no longer exists — or exists with another UID — and the rules on the
// cluster-tagged node security groups whose description names such a CR, are deleted. Each candidate
// owner is confirmed with a live GET first; the informer cache alone never deletes.
import type { ApplicationLoadBalancer } from '@kube-iaas/crds';
import {
  OWNER_KIND_TAG,
  describeLoadBalancers,
  describeSecurityGroupRules,
  describeSecurityGroups,
  describeTargetGroups,
  discoverClusterSecurityGroups,
  matchesCluster,
  counter,
  ownedByClusterFilters,
  parseOwnerDescription,
  taggedOwner,
  type AwsClients,
  type EventRecorder,
  type Informer,
  type KubeClient,
  type OwnerRef,
  type ReconcileContext,
  type ReconcileResult,
  type Tags,
} from '@kube-iaas/core';
import { applyPlan } from '../aws/index.ts';
import { ALB_KIND, type ActualBackendRule } from '../plan/index.ts';
import { ALB_RESOURCE } from './common.ts';
import { orphanPlans, ownerId, suspectOwners, type Found, type OwnerKey } from './orphans.ts';

export { orphanPlans, suspectOwners, type Found } from './orphans.ts';

export const SWEEP_KEY = 'orphan-sweep';

const collected = counter({ name: 'kube_iaas_ingress_orphans_collected_total', help: 'AWS resources of deleted ApplicationLoadBalancers removed by the orphan sweep', labelNames: ['kind'] as const });

export interface SweepDeps {
  client: KubeClient;
  clients: AwsClients;
  albs: Informer<ApplicationLoadBalancer>;
  events: EventRecorder;
  intervalMs: number;
}

/** Everything in AWS that says it was made for an ApplicationLoadBalancer of this cluster. */
async function findOurs(clients: AwsClients): Promise<Found[]> {
  const { elbv2, ec2, cluster } = clients;
  const ours = (tags: Tags) => matchesCluster(cluster)(tags) && tags[OWNER_KIND_TAG] === ALB_KIND;
  const ownerOfTags = (tags: Tags) => {
    const o = taggedOwner(tags);
    return o ? { namespace: o.namespace ?? '', name: o.name, uid: o.uid } : undefined;
  };
  const [lbs, tgs, sgs, nodeGroups] = await Promise.all([
    describeLoadBalancers(elbv2, { match: ours }),
    describeTargetGroups(elbv2, { match: ours }),
    describeSecurityGroups(ec2, { filters: [...ownedByClusterFilters(cluster), { Name: `tag:${OWNER_KIND_TAG}`, Values: [ALB_KIND] }] }),
    discoverClusterSecurityGroups(ec2, { cluster }),
  ]);
  const out: Found[] = [];
  for (const lb of lbs) {
    const owner = ownerOfTags(lb.tags);
    if (owner) out.push({ owner, action: { op: 'deleteLoadBalancer', arn: lb.arn, name: lb.name, why: 'deleted' } });
  }
  for (const tg of tgs) {
    const owner = ownerOfTags(tg.tags);
    if (owner) out.push({ owner, action: { op: 'deleteTargetGroup', arn: tg.arn, name: tg.name } });
  }
  for (const g of sgs) {
    const owner = ownerOfTags(g.tags);
    if (owner && ours(g.tags)) out.push({ owner, action: { op: 'deleteSecurityGroup', groupId: g.id, name: g.name } });
  }
  for (const g of [...nodeGroups.owned, ...nodeGroups.shared]) {
    for (const r of await describeSecurityGroupRules(ec2, g.id)) {
      const d = parseOwnerDescription(r.description);
      if (r.egress || !d || d.cluster !== cluster || d.kind !== ALB_KIND || !r.referencedGroupId) continue;
      const rule: ActualBackendRule = { groupId: g.id, port: r.fromPort ?? 0, sourceGroupId: r.referencedGroupId, ruleId: r.id, ...(r.description ? { description: r.description } : {}) };
      out.push({ owner: { namespace: d.namespace ?? '', name: d.name, uid: d.uid }, action: { op: 'revokeBackend', rules: [rule] } });
    }
  }
  return out;
}

export function sweepReconciler(deps: SweepDeps) {
  const { clients } = deps;
  return async (_key: string, ctx: ReconcileContext): Promise<ReconcileResult> => {
    const found = await findOurs(clients);
    const cached = (ns: string, name: string) => deps.albs.getByName(name, ns)?.metadata?.uid;
    const orphans: OwnerKey[] = [];
    for (const o of suspectOwners(found, cached)) {
      const cr = await deps.client.get<ApplicationLoadBalancer>(ALB_RESOURCE, o.name, o.namespace);
      if (!cr || (o.uid !== undefined && cr.metadata?.uid !== o.uid)) orphans.push(o);
    }
    const n = { loadbalancer: 0, targetgroup: 0, securitygroup: 0, rule: 0 };
    for (const { owner, actions } of orphanPlans(found, orphans)) {
      // Each orphan's deletions run as that owner: the guard checks every resource carries its tags.
      const ref: OwnerRef = { kind: ALB_KIND, namespace: owner.namespace, name: owner.name, uid: owner.uid ?? '' };
      const empty = { loadBalancers: [], securityGroups: [], backendRules: [], targetGroups: [], listeners: [], rules: [] };
      try {
        await applyPlan({ clients, owner: ref, actual: empty, onApplied: (a) => {
          if (a.op === 'deleteLoadBalancer') n.loadbalancer++;
          else if (a.op === 'deleteTargetGroup') n.targetgroup++;
          else if (a.op === 'deleteSecurityGroup') n.securitygroup++;
          else if (a.op === 'revokeBackend') n.rule += a.rules.length;
        } }, actions);
      } catch (e) {
        // A security group still held by the ALB's network interfaces: the next sweep finishes it.
        ctx.log.warn({ owner: ownerId(owner), err: e }, 'orphan not fully collected yet');
      }
    }
    for (const [kind, count] of Object.entries(n)) if (count > 0) collected.inc({ kind }, count);
    if (orphans.length > 0 && Object.values(n).some((x) => x > 0)) {
      const what = `${n.loadbalancer} load balancer(s), ${n.targetgroup} target group(s), ${n.securitygroup} security group(s), ${n.rule} security-group rule(s)`;
      ctx.log.info({ orphans: orphans.map(ownerId), collected: n }, 'orphans collected');
      for (const ns of new Set(orphans.map((o) => o.namespace))) {
        deps.events.normal({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, 'OrphansCollected', `collected ${what} of deleted ApplicationLoadBalancers: ${orphans.filter((o) => o.namespace === ns).map((o) => o.name).join(', ')}`);
      }
    }
    return { requeueAfter: deps.intervalMs };
  };
}
