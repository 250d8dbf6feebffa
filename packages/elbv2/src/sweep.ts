// The orphan sweep both operators run: load balancers, target groups and security groups tagged as made
// for an owner of one kind in this cluster — and, optionally, node rules whose description names one —
// whose custom resource no longer exists, or exists with another UID. Each suspect is confirmed with a
// live GET first (the informer cache alone never deletes); its actual state is then read exactly as a
// deletion reads it, and removed in the same dependency order, as that owner (the guard checks every tag).
import {
  OWNER_KIND_TAG,
  matchesCluster,
  ownedByClusterFilters,
  parseOwnerDescription,
  taggedOwner,
  type OwnerRef,
} from '@kube-iaas/core/tags';
import { describeSecurityGroupRules, describeSecurityGroups, type AwsClients } from '@kube-iaas/core/aws';
import { type Counter } from '@kube-iaas/core/metrics';
import {
  type EventRecorder,
  type Informer,
  type KubeClient,
  type KubeObject,
  type ReconcileContext,
  type ReconcileResult,
  type ResourceType,
} from '@kube-iaas/core/runtime';
import { type Logger } from '@kube-iaas/core/log';
import { readActual } from './aws/actual.ts';
import type { ElbInventory } from './aws/inventory.ts';
import type { Action } from './changes.ts';
import { applyPlan } from './deploy/apply.ts';
import { planDeletion } from './plan.ts';

/** Something found by our tags (or a rule by its description), with the owner it names. */
export interface Found {
  owner: OwnerKey;
  kind: 'loadbalancer' | 'targetgroup' | 'securitygroup' | 'rule';
  id: string;
}

export interface OwnerKey {
  namespace: string;
  name: string;
  uid: string | undefined;
}

export const ownerId = (o: OwnerKey): string => `${o.namespace}/${o.name}/${o.uid ?? ''}`;

/** Pure: owners named by what was found that the cache says are gone (or replaced by a new UID). */
export function suspectOwners(found: readonly Found[], live: (ns: string, name: string) => string | undefined): OwnerKey[] {
  const out = new Map<string, OwnerKey>();
  for (const f of found) {
    const uid = live(f.owner.namespace, f.owner.name);
    if (uid !== undefined && (f.owner.uid === undefined || uid === f.owner.uid)) continue;
    out.set(ownerId(f.owner), f.owner);
  }
  return [...out.values()];
}

export interface SweepInputs {
  clients: AwsClients;
  inventory: ElbInventory;
  /** NetworkLoadBalancer, ApplicationLoadBalancer. */
  ownerKind: string;
  /** The cluster's node security groups. */
  nodeGroups: readonly string[];
  /** Also find owners by the description of their rules on the node groups. */
  scanNodeRules?: boolean;
  groupSourcedNodeRules?: boolean;
  /** The owner's UID in the informer cache (undefined: not there). */
  cached: (namespace: string, name: string) => string | undefined;
  /** The owner's UID read live from the API server (undefined: it does not exist). */
  live: (namespace: string, name: string) => Promise<string | undefined>;
  log?: Logger;
}

export interface SweepResult {
  orphans: OwnerKey[];
  collected: { loadbalancer: number; targetgroup: number; securitygroup: number; rule: number };
}

async function findOurs(i: SweepInputs): Promise<Found[]> {
  const { ec2, cluster } = i.clients;
  await i.inventory.refresh();
  const out: Found[] = i.inventory.entries().map((e) => ({ owner: { namespace: e.owner.namespace ?? '', name: e.owner.name, uid: e.owner.uid }, kind: e.kind, id: e.arn }));
  const groups = await describeSecurityGroups(ec2, { filters: [...ownedByClusterFilters(cluster), { Name: `tag:${OWNER_KIND_TAG}`, Values: [i.ownerKind] }] });
  for (const g of groups) {
    const o = matchesCluster(cluster)(g.tags) ? taggedOwner(g.tags) : undefined;
    if (o) out.push({ owner: { namespace: o.namespace ?? '', name: o.name, uid: o.uid }, kind: 'securitygroup', id: g.id });
  }
  if (i.scanNodeRules) {
    for (const groupId of i.nodeGroups) {
      for (const r of await describeSecurityGroupRules(ec2, groupId)) {
        const d = parseOwnerDescription(r.description);
        if (r.egress || !d || d.cluster !== cluster || d.kind !== i.ownerKind) continue;
        out.push({ owner: { namespace: d.namespace ?? '', name: d.name, uid: d.uid }, kind: 'rule', id: r.id });
      }
    }
  }
  return out;
}

export async function sweepOrphans(i: SweepInputs): Promise<SweepResult> {
  const orphans: OwnerKey[] = [];
  for (const o of suspectOwners(await findOurs(i), i.cached)) {
    const uid = await i.live(o.namespace, o.name);
    if (uid === undefined || (o.uid !== undefined && uid !== o.uid)) orphans.push(o);
  }
  const collected = { loadbalancer: 0, targetgroup: 0, securitygroup: 0, rule: 0 };
  const count = (a: Action) => {
    if (a.op === 'deleteLoadBalancer') collected.loadbalancer++;
    else if (a.op === 'deleteTargetGroup') collected.targetgroup++;
    else if (a.op === 'deleteSecurityGroup') collected.securitygroup++;
    else if (a.op === 'revokeNodeRules') collected.rule += a.rules.length;
  };
  for (const o of orphans) {
    const owner: OwnerRef = { kind: i.ownerKind, namespace: o.namespace, name: o.name, uid: o.uid ?? '' };
    try {
      const actual = await readActual({ clients: i.clients, owner, inventory: i.inventory, nodeSecurityGroupIds: i.nodeGroups, groupSourcedNodeRules: i.groupSourcedNodeRules });
      await applyPlan({ clients: i.clients, owner, actual, inventory: i.inventory, logger: i.log, onApplied: count }, planDeletion(actual));
    } catch (e) {
      // Whatever is left is found again by the next sweep.
      i.log?.warn({ owner: ownerId(o), err: e }, 'orphan not fully collected yet');
    }
  }
  return { orphans, collected };
}

export interface SweepReconcilerDeps {
  client: KubeClient;
  clients: AwsClients;
  inventory: ElbInventory;
  /** The owners' custom resource type and its informer. */
  resource: ResourceType;
  informer: Pick<Informer<KubeObject>, 'getByName'>;
  /** The cluster's node security groups, looked up at each sweep. */
  nodeGroups: () => Promise<readonly string[]>;
  events: EventRecorder;
  intervalMs: number;
  /** Counts what was collected, by kind (loadbalancer, targetgroup, securitygroup, rule). */
  collected: Counter<'kind'>;
  scanNodeRules?: boolean;
  groupSourcedNodeRules?: boolean;
}

/** The sweep as a reconciler of its own key: collects, counts, and reports per namespace with an Event. */
export function sweepReconciler(deps: SweepReconcilerDeps) {
  return async (_key: string, ctx: ReconcileContext): Promise<ReconcileResult> => {
    const kind = deps.resource.kind;
    const { orphans, collected: n } = await sweepOrphans({
      clients: deps.clients,
      inventory: deps.inventory,
      ownerKind: kind,
      nodeGroups: await deps.nodeGroups(),
      scanNodeRules: deps.scanNodeRules ?? false,
      groupSourcedNodeRules: deps.groupSourcedNodeRules ?? false,
      cached: (ns, name) => deps.informer.getByName(name, ns)?.metadata?.uid,
      live: async (ns, name) => (await deps.client.get<KubeObject>(deps.resource, name, ns))?.metadata?.uid,
      log: ctx.log,
    });
    for (const [k, count] of Object.entries(n)) if (count > 0) deps.collected.inc({ kind: k }, count);
    if (Object.values(n).some((x) => x > 0)) {
      const what = `${n.loadbalancer} load balancer(s), ${n.targetgroup} target group(s), ${n.securitygroup} security group(s), ${n.rule} security-group rule(s)`;
      ctx.log.info({ orphans: orphans.map(ownerId), collected: n }, 'orphans collected');
      for (const ns of new Set(orphans.map((o) => o.namespace))) {
        const names = orphans.filter((o) => o.namespace === ns).map((o) => o.name).join(', ');
        deps.events.normal({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, 'OrphansCollected', `collected ${what} of deleted ${kind}s: ${names}`);
      }
    }
    return { requeueAfter: deps.intervalMs };
  };
}
