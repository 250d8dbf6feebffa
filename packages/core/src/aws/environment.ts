// What a load balancer is placed in and next to: the VPC and its CIDR, its subnets, security groups named
// by the user, the cluster-tagged node security groups. These change rarely and are shared by every load
// balancer of an operator, so they are cached for a short time (concurrent lookups of the same thing share
// one call). Used by the lb-operator (NLBs) and the ingress-operator (ALBs).
import { DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import type { LoadBalancerScheme } from '../tags/tags.ts';
import type { AwsClients } from './clients.ts';
import { describeInstances, describeSecurityGroups, describeSubnets, discoverClusterSecurityGroups, discoverLoadBalancerSubnets, type Instance, type Subnet } from './describe.ts';

/** An input problem found while resolving (a field of the custom resource is named); terminal until it changes. */
export class ResolveError extends Error {
  override readonly name = 'ResolveError';
  readonly kind = 'terminal';
  readonly code = 'InvalidSpec';
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

class TtlCache<V> {
  readonly #ttl: number;
  readonly #m = new Map<string, { at: number; p: Promise<V> }>();
  constructor(ttlMs: number) {
    this.#ttl = ttlMs;
  }
  get(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.#m.get(key);
    if (hit && Date.now() - hit.at < this.#ttl) return hit.p;
    const p = load();
    this.#m.set(key, { at: Date.now(), p });
    p.catch(() => this.#m.delete(key));
    return p;
  }
}

export interface EnvironmentOptions {
  /** Fixed VPC (--vpc-id); otherwise the VPC of the target instances. */
  vpcId?: string | undefined;
  /** How long subnets and security groups are trusted; instances 5×, VPC CIDRs 10×. Default 60 s. */
  ttlMs?: number;
}

/** `id` is a resource ID with this prefix (`subnet-`, `sg-`) rather than a Name tag. */
const isId = (prefix: string) => (s: string) => new RegExp(`^${prefix}-[0-9a-f]+$`).test(s);

export class AwsEnvironment {
  readonly #clients: AwsClients;
  readonly #vpcId: string | undefined;
  readonly #instances = new Map<string, { at: number; p: Promise<Instance | undefined> }>();
  readonly #instanceTtl: number;
  readonly #subnets: TtlCache<Subnet[]>;
  readonly #groups: TtlCache<string[]>;
  readonly #named: TtlCache<Array<{ id: string; name: string; groupName: string }>>;
  readonly #cidrs: TtlCache<string | undefined>;

  constructor(clients: AwsClients, opts: EnvironmentOptions = {}) {
    this.#clients = clients;
    this.#vpcId = opts.vpcId || undefined;
    const ttl = opts.ttlMs ?? 60_000;
    this.#instanceTtl = ttl * 5;
    this.#subnets = new TtlCache(ttl);
    this.#groups = new TtlCache(ttl);
    this.#named = new TtlCache(ttl);
    this.#cidrs = new TtlCache(ttl * 10);
  }

  /** The instances (cached one by one; concurrent lookups share one call; unknown or terminated IDs are left out). */
  async instances(ids: readonly string[]): Promise<Instance[]> {
    const now = Date.now();
    const stale = ids.filter((id) => {
      const hit = this.#instances.get(id);
      return !hit || now - hit.at > this.#instanceTtl;
    });
    if (stale.length > 0) {
      const batch = describeInstances(this.#clients.ec2, { filters: [{ Name: 'instance-id', Values: stale }] });
      for (const id of stale) this.#instances.set(id, { at: now, p: batch.then((all) => all.find((i) => i.id === id)) });
      batch.catch(() => {
        for (const id of stale) this.#instances.delete(id);
      });
    }
    const out = await Promise.all(ids.map((id) => this.#instances.get(id)?.p));
    return out.filter((i): i is Instance => !!i && i.state !== 'terminated' && i.state !== 'shutting-down');
  }

  /** --vpc-id, else the VPC of the target instances; `field` names what supplies them in the error. */
  async vpcId(instanceIds: readonly string[], field = 'spec.targets'): Promise<string> {
    if (this.#vpcId) return this.#vpcId;
    const vpc = (await this.instances(instanceIds)).find((i) => i.vpcId)?.vpcId;
    if (!vpc) throw new ResolveError(field, 'no target instance found to learn the VPC from; start the operator with --vpc-id or add Nodes');
    return vpc;
  }

  /** The VPC's primary IPv4 CIDR (the default client range of internal load balancers). */
  async vpcCidr(vpcId: string): Promise<string | undefined> {
    return this.#cidrs.get(vpcId, async () => (await this.#clients.ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }))).Vpcs?.[0]?.CidrBlock);
  }

  /**
   * The subnets for a load balancer: the named ones (IDs or Name tags, one per zone), or those
   * discovered by role tags (core's `discoverLoadBalancerSubnets`: one per AZ, at least two, else a
   * `SubnetSelectionError` naming the tags to add). Errors about named subnets name `field`.
   */
  async subnets(vpcId: string, scheme: LoadBalancerScheme, named: readonly string[] | undefined, field = 'spec.subnets'): Promise<Subnet[]> {
    if (!named?.length) {
      return this.#subnets.get(`${vpcId}|${scheme}`, () => discoverLoadBalancerSubnets(this.#clients.ec2, { cluster: this.#clients.cluster, scheme, vpcId }));
    }
    const ids = named.filter(isId('subnet'));
    const names = named.filter((s) => !isId('subnet')(s));
    const found = await this.#subnets.get(`named|${vpcId}|${[...named].sort().join(',')}`, async () => [
      ...(ids.length ? await describeSubnets(this.#clients.ec2, { filters: [{ Name: 'subnet-id', Values: ids }] }) : []),
      ...(names.length ? await describeSubnets(this.#clients.ec2, { filters: [{ Name: 'tag:Name', Values: names }, { Name: 'vpc-id', Values: [vpcId] }] }) : []),
    ]);
    const missing = named.filter((n) => !found.some((s) => s.id === n || s.tags.Name === n));
    if (missing.length > 0) throw new ResolveError(field, `subnet(s) not found: ${missing.join(', ')}`);
    const zones = new Map<string, string>();
    for (const s of found) {
      const other = zones.get(s.availabilityZone);
      if (other && other !== s.id) throw new ResolveError(field, `${other} and ${s.id} are both in ${s.availabilityZone}; give at most one subnet per availability zone`);
      zones.set(s.availabilityZone, s.id);
    }
    return found;
  }

  /**
   * Security groups named by the user (IDs or `Name` tags / group names) in the VPC, as sorted IDs.
   * Any that is not found is a `ResolveError` naming `field` and the missing ones.
   */
  async securityGroups(vpcId: string, named: readonly string[], field = 'spec.securityGroups'): Promise<string[]> {
    if (named.length === 0) return [];
    const found = await this.#named.get(`${vpcId}|${[...named].sort().join(',')}`, async () => {
      const ids = named.filter(isId('sg'));
      const names = named.filter((s) => !isId('sg')(s));
      const vpc = [{ Name: 'vpc-id', Values: [vpcId] }];
      const groups = [
        ...(ids.length ? await describeSecurityGroups(this.#clients.ec2, { filters: [{ Name: 'group-id', Values: ids }, ...vpc] }) : []),
        ...(names.length ? await describeSecurityGroups(this.#clients.ec2, { filters: vpc, anyOf: [[{ Name: 'tag:Name', Values: names }], [{ Name: 'group-name', Values: names }]] }) : []),
      ];
      return groups.map((g) => ({ id: g.id, name: g.tags.Name ?? g.name, groupName: g.name }));
    });
    const out = new Set<string>();
    const missing: string[] = [];
    for (const n of named) {
      const hits = found.filter((g) => g.id === n || g.name === n || g.groupName === n);
      if (hits.length === 0) missing.push(n);
      else if (hits.length > 1 && !isId('sg')(n)) throw new ResolveError(field, `security group name ${n} matches ${hits.map((h) => h.id).join(', ')}; give the ID`);
      else for (const h of hits) out.add(h.id);
    }
    if (missing.length > 0) throw new ResolveError(field, `security group(s) not found in ${vpcId}: ${missing.join(', ')}`);
    return [...out].sort();
  }

  /** Every cluster-tagged security group (for cleanup, when the VPC may no longer be known). */
  async allClusterSecurityGroups(): Promise<string[]> {
    const { owned, shared } = await discoverClusterSecurityGroups(this.#clients.ec2, { cluster: this.#clients.cluster });
    return [...owned, ...shared].map((g) => g.id).sort();
  }

  /**
   * The cluster-tagged security groups (owned or shared) on the target instances: where the rules that
   * let the load balancer reach the nodes go. Untagged groups (the baseline one) are never returned.
   */
  async nodeSecurityGroups(vpcId: string, instanceIds: readonly string[]): Promise<string[]> {
    const tagged = await this.#groups.get(vpcId, async () => {
      const { owned, shared } = await discoverClusterSecurityGroups(this.#clients.ec2, { cluster: this.#clients.cluster, vpcId });
      return [...owned, ...shared].map((g) => g.id);
    });
    const onInstances = new Set((await this.instances(instanceIds)).flatMap((i) => i.securityGroupIds));
    return tagged.filter((g) => onInstances.has(g)).sort();
  }
}
