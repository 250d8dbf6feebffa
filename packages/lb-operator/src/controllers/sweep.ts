// The orphan sweep: NLBs, target groups and security-group rules tagged (or described) as made for a
// NetworkLoadBalancer of this cluster whose CR no longer exists — or exists with another UID — are
// deleted. Each candidate is confirmed with a live GET first; the informer cache alone never deletes.
import type { NetworkLoadBalancer } from '@kube-iaas/crds';
import {
  describeSecurityGroupRules,
  describeSecurityGroups,
  counter,
  ownedByClusterFilters,
  taggedOwner,
  OWNER_KIND_TAG,
  parseOwnerDescription,
  type AwsClients,
  type EventRecorder,
  type Informer,
  type KubeClient,
  type ReconcileContext,
  type ReconcileResult,
} from '@kube-iaas/core';
import { NLB_RESOURCE } from '../constants.ts';
import { applyPlan } from '../aws/apply.ts';
import type { AwsEnvironment } from '../aws/environment.ts';
import type { Inventory, InventoryEntry } from '../aws/inventory.ts';
import { NLB_KIND } from '../plan/desired.ts';
import type { Action, ActualRule } from '../plan/types.ts';

export const SWEEP_KEY = 'orphan-sweep';

const collected = counter({ name: 'kube_iaas_lb_orphans_collected_total', help: 'AWS resources of deleted NetworkLoadBalancers removed by the orphan sweep', labelNames: ['kind'] as const });

export interface SweepDeps {
  client: KubeClient;
  clients: AwsClients;
  env: AwsEnvironment;
  inventory: Inventory;
  nlbs: Informer<NetworkLoadBalancer>;
  events: EventRecorder;
  intervalMs: number;
}

type OwnerKey = { namespace: string; name: string; uid: string | undefined };

/** Pure: owners named by the inventory that the cache says are gone (or replaced by a new UID). */
export function suspectOwners(entries: readonly InventoryEntry[], live: (ns: string, name: string) => string | undefined): OwnerKey[] {
  const out = new Map<string, OwnerKey>();
  for (const e of entries) {
    const ns = e.owner.namespace ?? '';
    const uid = live(ns, e.owner.name);
    if (uid !== undefined && (e.owner.uid === undefined || uid === e.owner.uid)) continue;
    out.set(`${ns}/${e.owner.name}/${e.owner.uid ?? ''}`, { namespace: ns, name: e.owner.name, uid: e.owner.uid });
  }
  return [...out.values()];
}

export function sweepReconciler(deps: SweepDeps) {
  const { clients } = deps;
  return async (_key: string, ctx: ReconcileContext): Promise<ReconcileResult> => {
    await deps.inventory.refresh();
    const cached = (ns: string, name: string) => deps.nlbs.getByName(name, ns)?.metadata?.uid;
    const gone = async (o: OwnerKey): Promise<boolean> => {
      const cr = await deps.client.get<NetworkLoadBalancer>(NLB_RESOURCE, o.name, o.namespace);
      return !cr || (o.uid !== undefined && cr.metadata?.uid !== o.uid);
    };
    const orphans: OwnerKey[] = [];
    for (const o of suspectOwners(deps.inventory.entries(), cached)) if (await gone(o)) orphans.push(o);
    const isOrphan = (ns: string | undefined, name: string, uid: string | undefined) => orphans.some((o) => o.namespace === (ns ?? '') && o.name === name && (o.uid === undefined || o.uid === uid));

    const actions: Action[] = [];
    const entries = deps.inventory.entries().filter((e) => isOrphan(e.owner.namespace, e.owner.name, e.owner.uid));
    for (const e of entries) if (e.kind === 'loadbalancer') actions.push({ op: 'deleteLoadBalancer', arn: e.arn, name: e.name, why: 'deleted' });
    for (const e of entries) if (e.kind === 'targetgroup') actions.push({ op: 'deleteTargetGroup', arn: e.arn, name: e.name });

    // Rules on cluster-tagged groups whose description names a NetworkLoadBalancer that is gone.
    const rules: ActualRule[] = [];
    for (const groupId of await deps.env.allClusterSecurityGroups()) {
      for (const r of await describeSecurityGroupRules(clients.ec2, groupId)) {
        const d = parseOwnerDescription(r.description);
        if (r.egress || !d || d.cluster !== clients.cluster || d.kind !== NLB_KIND) continue;
        const ns = d.namespace ?? '';
        const uid = cached(ns, d.name);
        if (uid !== undefined && (d.uid === undefined || d.uid === uid)) continue;
        if (!(await gone({ namespace: ns, name: d.name, uid: d.uid }))) continue;
        const cidr = r.cidrIpv4 ?? r.cidrIpv6 ?? '';
        rules.push({ id: r.id, groupId, protocol: r.protocol as 'tcp' | 'udp', port: r.fromPort ?? 0, cidr, ...(r.description ? { description: r.description } : {}) });
      }
    }
    if (rules.length > 0) actions.push({ op: 'revokeIngress', rules });

    // Frontend groups of NetworkLoadBalancers that are gone; last, as their NLBs go first.
    const groups = await describeSecurityGroups(clients.ec2, { filters: [...ownedByClusterFilters(clients.cluster), { Name: `tag:${OWNER_KIND_TAG}`, Values: [NLB_KIND] }] });
    for (const g of groups) {
      const o = taggedOwner(g.tags);
      if (!o) continue;
      const ns = o.namespace ?? '';
      const uid = cached(ns, o.name);
      if (uid !== undefined && (o.uid === undefined || o.uid === uid)) continue;
      if (!(await gone({ namespace: ns, name: o.name, uid: o.uid }))) continue;
      if (!orphans.some((x) => x.namespace === ns && x.name === o.name && x.uid === o.uid)) orphans.push({ namespace: ns, name: o.name, uid: o.uid });
      actions.push({ op: 'deleteSecurityGroup', groupId: g.id, name: g.name });
    }
    if (actions.length === 0) return { requeueAfter: deps.intervalMs };

    // Deletes run without an owner scope: the guard still requires each resource to be owned by this cluster.
    const done: Action[] = [];
    try {
      await applyPlan({ clients, owner: { kind: NLB_KIND, name: 'orphan-sweep', uid: '' }, actual: { loadBalancers: [], listeners: [], targetGroups: [], rules: [], frontendGroups: [] }, inventory: deps.inventory, onApplied: (a) => done.push(a) }, actions, { ownerScope: false });
    } finally {
      const n = { loadbalancer: 0, targetgroup: 0, rule: 0, securitygroup: 0 };
      for (const a of done) {
        if (a.op === 'deleteLoadBalancer') n.loadbalancer++;
        else if (a.op === 'deleteSecurityGroup') n.securitygroup++;
        else if (a.op === 'deleteTargetGroup') n.targetgroup++;
        else if (a.op === 'revokeIngress') n.rule += a.rules.length;
      }
      for (const [kind, count] of Object.entries(n)) if (count > 0) collected.inc({ kind }, count);
      if (done.length > 0) {
        const what = `${n.loadbalancer} load balancer(s), ${n.targetgroup} target group(s), ${n.rule} security-group rule(s), ${n.securitygroup} security group(s)`;
        ctx.log.info({ orphans: orphans.map((o) => `${o.namespace}/${o.name}`), collected: n }, 'orphans collected');
        for (const ns of new Set(orphans.map((o) => o.namespace))) {
          deps.events.normal({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, 'OrphansCollected', `collected ${what} of deleted NetworkLoadBalancers: ${orphans.filter((o) => o.namespace === ns).map((o) => o.name).join(', ')}`);
        }
      }
    }
    return { requeueAfter: deps.intervalMs };
  };
}
