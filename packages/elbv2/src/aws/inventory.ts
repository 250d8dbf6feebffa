// Every load balancer and target group this cluster created for owners of one kind, found by the owner
// tags (ELBv2 has no tag filters).
import { OWNER_KIND_TAG, OWNER_UID_TAG, matchesCluster, taggedOwner, type TaggedOwner, type Tags } from '@kube-iaas/core/tags';
import { type AwsClients } from '@kube-iaas/core/aws';
import { describeLoadBalancers, describeTargetGroups } from './describe.ts';

export type ElbInventoryKind = 'loadbalancer' | 'targetgroup';

export interface ElbInventoryEntry {
  kind: ElbInventoryKind;
  arn: string;
  name: string;
  owner: TaggedOwner;
  /** Load balancers a target group is attached to. */
  loadBalancerArns?: string[];
}

/**
 * Every load balancer and target group this cluster created for owners of one kind (NetworkLoadBalancer,
 * ApplicationLoadBalancer), found by the owner tags. Built at start-up (before the first create, so a
 * restart after a crash sees what the crashed process made), refreshed by each orphan sweep, and kept
 * current with what this process creates and deletes (`remember` / `forget`).
 */
export class ElbInventory {
  readonly #clients: AwsClients;
  readonly #kind: string;
  readonly #entries = new Map<string, ElbInventoryEntry>();
  readonly #created = new Map<string, { uid: string; kind: ElbInventoryKind }>();
  /** Found by owner tags whose `kube-iaas.dev/owner` was shortened: known by UID only, so not in `entries()`. */
  readonly #byUidOnly = new Map<string, { uid: string; kind: ElbInventoryKind }>();
  #first: Promise<void> | undefined;
  #refreshedAt = 0;

  constructor(clients: AwsClients, ownerKind: string) {
    this.#clients = clients;
    this.#kind = ownerKind;
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

  /** Lists every load balancer and target group, keeps those owned by this kind in this cluster. */
  async refresh(): Promise<void> {
    const { elbv2, cluster } = this.#clients;
    const ours = (tags: Tags) => matchesCluster(cluster)(tags) && tags[OWNER_KIND_TAG] === this.#kind;
    const [lbs, tgs] = await Promise.all([describeLoadBalancers(elbv2, { match: ours }), describeTargetGroups(elbv2, { match: ours })]);
    const next = new Map<string, ElbInventoryEntry>();
    const uidOnly = new Map<string, { uid: string; kind: ElbInventoryKind }>();
    for (const lb of lbs) {
      const owner = taggedOwner(lb.tags);
      if (owner) next.set(lb.arn, { kind: 'loadbalancer', arn: lb.arn, name: lb.name, owner });
      else if (lb.tags[OWNER_UID_TAG]) uidOnly.set(lb.arn, { uid: lb.tags[OWNER_UID_TAG], kind: 'loadbalancer' });
    }
    for (const tg of tgs) {
      const owner = taggedOwner(tg.tags);
      if (owner) next.set(tg.arn, { kind: 'targetgroup', arn: tg.arn, name: tg.name, owner, loadBalancerArns: [...new Set(tg.loadBalancerArns)] });
      else if (tg.tags[OWNER_UID_TAG]) uidOnly.set(tg.arn, { uid: tg.tags[OWNER_UID_TAG], kind: 'targetgroup' });
    }
    this.#entries.clear();
    for (const [k, v] of next) this.#entries.set(k, v);
    this.#byUidOnly.clear();
    for (const [k, v] of uidOnly) this.#byUidOnly.set(k, v);
    this.#refreshedAt = Date.now();
  }

  entries(): ElbInventoryEntry[] {
    return [...this.#entries.values()];
  }

  #of(uid: string, kind: ElbInventoryKind): string[] {
    const out = new Set<string>();
    for (const e of this.#entries.values()) if (e.kind === kind && e.owner.uid === uid) out.add(e.arn);
    for (const [arn, c] of this.#created) if (c.kind === kind && c.uid === uid) out.add(arn);
    for (const [arn, c] of this.#byUidOnly) if (c.kind === kind && c.uid === uid) out.add(arn);
    return [...out];
  }

  loadBalancersOf(uid: string): string[] {
    return this.#of(uid, 'loadbalancer');
  }

  targetGroupsOf(uid: string): string[] {
    return this.#of(uid, 'targetgroup');
  }

  remember(uid: string, kind: ElbInventoryKind, arn: string): void {
    this.#created.set(arn, { uid, kind });
  }

  forget(arn: string): void {
    this.#created.delete(arn);
    this.#entries.delete(arn);
    this.#byUidOnly.delete(arn);
  }
}

