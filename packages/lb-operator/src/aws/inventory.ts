// Every NLB and target group this cluster's lb-operator created, found by the owner tags. Built at
// start-up (before the first create, so a restart after a crash sees what the crashed process made),
// refreshed by each orphan sweep, and kept current with what this process creates and deletes.
import { OWNER_KIND_TAG, describeLoadBalancers, describeTargetGroups, matchesCluster, taggedOwner, type AwsClients, type TaggedOwner, type Tags } from '@kube-iaas/core';
import { NLB_KIND } from '../plan/desired.ts';

export type InventoryKind = 'loadbalancer' | 'targetgroup';

export interface InventoryEntry {
  kind: InventoryKind;
  arn: string;
  name: string;
  owner: TaggedOwner;
  /** Load balancers a target group is attached to. */
  loadBalancerArns?: string[];
}

export class Inventory {
  readonly #clients: AwsClients;
  readonly #entries = new Map<string, InventoryEntry>();
  readonly #created = new Map<string, { uid: string; kind: InventoryKind }>();
  #first: Promise<void> | undefined;
  #refreshedAt = 0;

  constructor(clients: AwsClients) {
    this.#clients = clients;
  }

  /** Resolves once the first scan finished (starting it if needed). */
  ready(): Promise<void> {
    this.#first ??= this.refresh().catch((e: unknown) => {
      this.#first = undefined;
      throw e;
    });
    return this.#first;
  }

  get refreshedAt(): number {
    return this.#refreshedAt;
  }

  /** Lists every load balancer and target group, keeps those owned by an NLB of this cluster. */
  async refresh(): Promise<void> {
    const { elbv2, cluster } = this.#clients;
    const ours = (tags: Tags) => matchesCluster(cluster)(tags) && tags[OWNER_KIND_TAG] === NLB_KIND;
    const [lbs, tgs] = await Promise.all([describeLoadBalancers(elbv2, { match: ours }), describeTargetGroups(elbv2, { match: ours })]);
    const next = new Map<string, InventoryEntry>();
    for (const lb of lbs) {
      const owner = taggedOwner(lb.tags);
      if (owner) next.set(lb.arn, { kind: 'loadbalancer', arn: lb.arn, name: lb.name, owner });
    }
    for (const tg of tgs) {
      const owner = taggedOwner(tg.tags);
      if (owner) next.set(tg.arn, { kind: 'targetgroup', arn: tg.arn, name: tg.name, owner, loadBalancerArns: [...new Set(tg.loadBalancerArns)] });
    }
    this.#entries.clear();
    for (const [k, v] of next) this.#entries.set(k, v);
    this.#refreshedAt = Date.now();
  }

  entries(): InventoryEntry[] {
    return [...this.#entries.values()];
  }

  #of(uid: string, kind: InventoryKind): string[] {
    const out = new Set<string>();
    for (const e of this.#entries.values()) if (e.kind === kind && e.owner.uid === uid) out.add(e.arn);
    for (const [arn, c] of this.#created) if (c.kind === kind && c.uid === uid) out.add(arn);
    return [...out];
  }

  loadBalancersOf(uid: string): string[] {
    return this.#of(uid, 'loadbalancer');
  }

  targetGroupsOf(uid: string): string[] {
    return this.#of(uid, 'targetgroup');
  }

  remember(uid: string, kind: InventoryKind, arn: string): void {
    this.#created.set(arn, { uid, kind });
  }

  forget(arn: string): void {
    this.#created.delete(arn);
    this.#entries.delete(arn);
  }
}
