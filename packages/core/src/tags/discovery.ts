import { LEGACY_CLUSTER_TAG, clusterTagKey } from './keys.ts';
import { clusterOwnership } from './ownership.ts';
import { subnetRoleTagKey, type LoadBalancerScheme, type Tags } from './tags.ts';

/** The fields subnet selection reads; `Subnet` from the AWS helpers fits. */
export interface SubnetCandidate {
  id: string;
  availabilityZone: string;
  tags: Tags;
}

export interface SubnetSelectionOptions {
  cluster: string;
  scheme: LoadBalancerScheme;
  /** Load balancers need subnets in at least two AZs. */
  minZones?: number;
}

/** Fewer AZs than a load balancer needs; the message names the tags to add. Terminal until tags change. */
export class SubnetSelectionError extends Error {
  override readonly name = 'SubnetSelectionError';
  readonly code = 'SubnetSelection';
  readonly kind = 'terminal';
  /** Tags a subnet needs to be chosen, as `key=value`. */
  readonly missingTags: string[];
  readonly zonesFound: string[];

  constructor(message: string, missingTags: string[], zonesFound: string[]) {
    super(message);
    this.missingTags = missingTags;
    this.zonesFound = zonesFound;
  }
}

/** The role tag counts when its value is `1` or empty (both forms are in use). */
function hasRole(tags: Tags, key: string): boolean {
  const v = tags[key];
  return v === '1' || v === '';
}

/**
 * Picks the subnets for a load balancer of `scheme`, the way users of the cloud provider and the
 * load balancer controller expect:
 * - only subnets with the role tag (`kubernetes.io/role/elb` for internet-facing,
 *   `kubernetes.io/role/internal-elb` for internal), value `1` or empty;
 * - subnets tagged for another cluster (and not for this one) are dropped;
 * - one subnet per AZ: one tagged for this cluster (owned or shared) wins over one without a
 *   cluster tag; ties go to the lexically smallest subnet ID, so the choice never flaps;
 * - at least `minZones` (2) AZs, or a `SubnetSelectionError` naming the missing tags.
 * The result is sorted by AZ.
 */
export function selectLoadBalancerSubnets<S extends SubnetCandidate>(subnets: readonly S[], opts: SubnetSelectionOptions): S[] {
  const { cluster, scheme } = opts;
  const minZones = opts.minZones ?? 2;
  const roleKey = subnetRoleTagKey(scheme);
  const best = new Map<string, { subnet: S; tagged: boolean }>();
  const droppedForeign: string[] = [];

  for (const subnet of subnets) {
    if (!hasRole(subnet.tags, roleKey)) continue;
    const ownership = clusterOwnership(subnet.tags, cluster);
    if (ownership.state === 'other-cluster') {
      droppedForeign.push(`${subnet.id} (tagged for ${ownership.clusters.join(', ')})`);
      continue;
    }
    const tagged = ownership.state !== 'untagged';
    const current = best.get(subnet.availabilityZone);
    if (!current || (tagged && !current.tagged) || (tagged === current.tagged && subnet.id < current.subnet.id)) {
      best.set(subnet.availabilityZone, { subnet, tagged });
    }
  }

  const zones = [...best.keys()].sort();
  if (zones.length < minZones) {
    const missing = [`${roleKey}=1`, `${clusterTagKey(cluster)}=owned|shared (or no cluster tag)`];
    const found = zones.length === 0 ? 'none' : zones.map((z) => `${z}: ${best.get(z)!.subnet.id}`).join(', ');
    const dropped = droppedForeign.length > 0 ? `; dropped ${droppedForeign.join(', ')}` : '';
    throw new SubnetSelectionError(
      `a ${scheme} load balancer needs subnets in at least ${minZones} availability zones, found ${zones.length} (${found})${dropped}: ` +
        `tag one subnet per zone with ${roleKey}=1 and not for another cluster (${clusterTagKey(cluster)} or ${LEGACY_CLUSTER_TAG}=${cluster} to prefer it)`,
      missing,
      zones,
    );
  }
  return zones.map((z) => best.get(z)!.subnet);
}

export interface SecurityGroupCandidate {
  id: string;
  tags: Tags;
}

/**
 * The cluster's security groups, split by what kube-iaas may do to them: `owned` ones may be changed,
 * `shared` ones only additively. Untagged groups (a bastion's baseline group) and groups of other
 * clusters are never returned. Each list is sorted by ID.
 */
export function selectClusterSecurityGroups<G extends SecurityGroupCandidate>(groups: readonly G[], cluster: string): { owned: G[]; shared: G[] } {
  const owned: G[] = [];
  const shared: G[] = [];
  for (const g of groups) {
    const state = clusterOwnership(g.tags, cluster).state;
    if (state === 'owned') owned.push(g);
    else if (state === 'shared') shared.push(g);
  }
  const byId = (a: G, b: G) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return { owned: owned.sort(byId), shared: shared.sort(byId) };
}
