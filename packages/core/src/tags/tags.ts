import type { Filter as Ec2Filter, ResourceType as Ec2ResourceType, Tag as Ec2Tag, TagSpecification } from '@aws-sdk/client-ec2';
import type { Tag as ElbTag } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Filter as AsgFilter, Tag as AsgTag } from '@aws-sdk/client-auto-scaling';
import {
  AUTOSCALER_ENABLED_TAG,
  CLUSTER_OWNED,
  ENI_CREATED_AT_TAG,
  ENI_INSTANCE_TAG,
  INGRESS_NAME_TAG,
  LEGACY_CLUSTER_TAG,
  NAME_TAG,
  OWNER_CLUSTER_TAG,
  OWNER_KIND_TAG,
  OWNER_TAG,
  OWNER_UID_TAG,
  PV_NAME_TAG,
  PVC_NAME_TAG,
  PVC_NAMESPACE_TAG,
  ROLE_ELB_TAG,
  ROLE_INTERNAL_ELB_TAG,
  SERVICE_NAME_TAG,
  SERVICE_PORT_TAG,
  autoscalerClusterTagKey,
  clusterTagKey,
} from './keys.ts';
import { TagLimitError, boundedTagValue, isAbbreviatedTagValue, tagLimitProblems } from './limits.ts';

/** A resource's tags as a plain map. Every helper in core speaks this shape, never `{Key, Value}[]`. */
export type Tags = Readonly<Record<string, string>>;

/**
 * The Kubernetes object on whose behalf an AWS resource exists: the custom resource (AwsVolume,
 * EniPool, NetworkLoadBalancer, ...) that reconciles it. `namespace` is absent for cluster-scoped kinds.
 */
export interface OwnerRef {
  kind: string;
  name: string;
  namespace?: string;
  uid: string;
}

/** What the owner tags of a resource say, when it carries them. */
export interface TaggedOwner {
  cluster: string;
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
}

export type LoadBalancerScheme = 'internet-facing' | 'internal';

const RESERVED_KEYS = new Set([LEGACY_CLUSTER_TAG, OWNER_CLUSTER_TAG, OWNER_KIND_TAG, OWNER_TAG, OWNER_UID_TAG]);

/** `namespace/name`, or `name` for a cluster-scoped owner: what `kube-iaas.dev/owner` names. */
export function ownerKey(owner: Pick<OwnerRef, 'name' | 'namespace'>): string {
  return owner.namespace ? `${owner.namespace}/${owner.name}` : owner.name;
}

/**
 * The value of `kube-iaas.dev/owner` as stored: `ownerKey(owner)`, shortened by `boundedTagValue` when
 * over 256 characters (a 253-character name in a long namespace). Builders, filters, matchers and the
 * guard all compare against this, never against `ownerKey` itself; `kube-iaas.dev/owner-uid` stays the
 * exact identity.
 */
export function ownerTagValue(owner: Pick<OwnerRef, 'name' | 'namespace'>): string {
  return boundedTagValue(ownerKey(owner));
}

/**
 * The tags of a resource kube-iaas creates for `owner` in `cluster`: the cluster tag (`owned`) in its
 * current and legacy forms, the four owner tags, and `extra` (per-kind tags from the builders below,
 * a `Name`, or user tags from the custom resource's spec). `extra` may not override ownership keys.
 */
export function ownedTags(cluster: string, owner: OwnerRef, extra: Tags = {}): Tags {
  const ours: Record<string, string> = {
    [clusterTagKey(cluster)]: CLUSTER_OWNED,
    [LEGACY_CLUSTER_TAG]: cluster,
    [OWNER_CLUSTER_TAG]: cluster,
    [OWNER_KIND_TAG]: owner.kind,
    [OWNER_TAG]: ownerTagValue(owner),
    [OWNER_UID_TAG]: owner.uid,
  };
  for (const key of Object.keys(extra)) {
    if (RESERVED_KEYS.has(key) || key.startsWith('kubernetes.io/cluster/')) {
      throw new Error(`tag ${key} is set by ownedTags() and cannot be passed as an extra tag`);
    }
    if (key.startsWith('aws:')) throw new Error(`tag ${key}: the aws: prefix is reserved by AWS`);
  }
  // The per-kind builders below shorten what they compute; what is still too long came from a user and
  // is refused rather than cut (a cut user tag would silently mean something else). Callers check user
  // tags first with `assertTagLimits(tags, field)` so the error names the field.
  const problems = tagLimitProblems({ ...extra, ...ours });
  if (problems.length > 0) throw new TagLimitError(problems);
  return { ...extra, ...ours };
}

/**
 * The owner recorded in a resource's kube-iaas owner tags, or undefined when they are incomplete, or
 * when `kube-iaas.dev/owner` was shortened (`ownerTagValue`): the name is then not recorded, and a name
 * guessed from it would look like an owner that is gone. Such resources are still found and matched for
 * their owner (`matchesOwner`, `ownedByOwnerFilters`, `isOwnedBy`), and by `kube-iaas.dev/owner-uid`.
 */
export function taggedOwner(tags: Tags): TaggedOwner | undefined {
  const cluster = tags[OWNER_CLUSTER_TAG];
  const kind = tags[OWNER_KIND_TAG];
  const key = tags[OWNER_TAG];
  if (!cluster || !kind || !key || isAbbreviatedTagValue(key)) return undefined;
  const slash = key.indexOf('/');
  const owner: TaggedOwner = slash < 0 ? { cluster, kind, name: key } : { cluster, kind, namespace: key.slice(0, slash), name: key.slice(slash + 1) };
  const uid = tags[OWNER_UID_TAG];
  if (uid) owner.uid = uid;
  return owner;
}

/** True when the owner tags name this cluster and this owner (by UID when both sides have one). */
export function isOwnedBy(tags: Tags, cluster: string, owner: OwnerRef): boolean {
  // Compared as stored (not parsed back), so a shortened owner value matches its owner too.
  if (tags[OWNER_CLUSTER_TAG] !== cluster || tags[OWNER_KIND_TAG] !== owner.kind || tags[OWNER_TAG] !== ownerTagValue(owner)) return false;
  const uid = tags[OWNER_UID_TAG];
  return !uid || uid === owner.uid;
}

// --- per-kind extras ------------------------------------------------------------------------------

// Values computed from Kubernetes names go through `boundedTagValue`: `namespace/name` can reach 317
// characters. Readers of these tags get undefined for a shortened value rather than a wrong name.

export function nameTag(name: string): Tags {
  return { [NAME_TAG]: boundedTagValue(name) };
}

/** EBS volumes for a PVC, with the keys the cloud provider and the EBS CSI driver use. */
export function volumeTags(claim: { pvcName: string; pvcNamespace: string; pvName: string }): Tags {
  return { [PVC_NAME_TAG]: boundedTagValue(claim.pvcName), [PVC_NAMESPACE_TAG]: boundedTagValue(claim.pvcNamespace), [PV_NAME_TAG]: boundedTagValue(claim.pvName) };
}

/** The PVC / PV a volume was created for, read back from its tags. */
export function volumeClaimOf(tags: Tags): { pvcName?: string; pvcNamespace?: string; pvName?: string } {
  const out: { pvcName?: string; pvcNamespace?: string; pvName?: string } = {};
  if (tags[PVC_NAME_TAG]) out.pvcName = tags[PVC_NAME_TAG];
  if (tags[PVC_NAMESPACE_TAG]) out.pvcNamespace = tags[PVC_NAMESPACE_TAG];
  if (tags[PV_NAME_TAG]) out.pvName = tags[PV_NAME_TAG];
  return out;
}

/** Secondary ENIs: the instance they were created for and when (ISO 8601), for leak collection. */
export function eniTags(eni: { instanceId: string; createdAt?: Date }): Tags {
  return { [ENI_INSTANCE_TAG]: eni.instanceId, [ENI_CREATED_AT_TAG]: (eni.createdAt ?? new Date()).toISOString() };
}

export function eniInstanceOf(tags: Tags): { instanceId?: string; createdAt?: Date } {
  const out: { instanceId?: string; createdAt?: Date } = {};
  if (tags[ENI_INSTANCE_TAG]) out.instanceId = tags[ENI_INSTANCE_TAG];
  const created = tags[ENI_CREATED_AT_TAG] ? new Date(tags[ENI_CREATED_AT_TAG]) : undefined;
  if (created && !Number.isNaN(created.getTime())) out.createdAt = created;
  return out;
}

/** NLBs for a Service of type LoadBalancer (the cloud provider's key). */
export function serviceTags(service: { namespace: string; name: string }): Tags {
  return { [SERVICE_NAME_TAG]: boundedTagValue(`${service.namespace}/${service.name}`) };
}

/** Target groups of a Service's NLB, one per Service port. */
export function targetGroupTags(service: { namespace: string; name: string }, port: string | number): Tags {
  return { ...serviceTags(service), [SERVICE_PORT_TAG]: boundedTagValue(String(port)) };
}

/** ALBs and their target groups for an Ingress. */
export function ingressTags(ingress: { namespace: string; name: string }): Tags {
  return { [INGRESS_NAME_TAG]: boundedTagValue(`${ingress.namespace}/${ingress.name}`) };
}

export function serviceOf(tags: Tags): { namespace: string; name: string; port?: string } | undefined {
  const v = tags[SERVICE_NAME_TAG];
  const slash = v?.indexOf('/') ?? -1;
  if (!v || slash < 0 || isAbbreviatedTagValue(v)) return undefined;
  const out: { namespace: string; name: string; port?: string } = { namespace: v.slice(0, slash), name: v.slice(slash + 1) };
  if (tags[SERVICE_PORT_TAG]) out.port = tags[SERVICE_PORT_TAG];
  return out;
}

/** The subnet role tag a load balancer of this scheme is placed by. */
export function subnetRoleTagKey(scheme: LoadBalancerScheme): string {
  return scheme === 'internet-facing' ? ROLE_ELB_TAG : ROLE_INTERNAL_ELB_TAG;
}

/** The cluster autoscaler's auto-discovery tags for an ASG of this cluster. */
export function autoscalerDiscoveryTags(cluster: string): Tags {
  return { [AUTOSCALER_ENABLED_TAG]: 'true', [autoscalerClusterTagKey(cluster)]: CLUSTER_OWNED };
}

/** True when an ASG carries both auto-discovery tags for this cluster (any value, like the autoscaler). */
export function isAutoscalerDiscoverable(tags: Tags, cluster: string): boolean {
  return tags[AUTOSCALER_ENABLED_TAG] !== undefined && tags[autoscalerClusterTagKey(cluster)] !== undefined;
}

// --- conversions to and from the SDK's shapes ------------------------------------------------------

/** `[{Key, Value}]` (EC2, ELBv2, Auto Scaling) to a map; entries without a key are dropped. */
export function tagsFromAws(list: ReadonlyArray<{ Key?: string | undefined; Value?: string | undefined }> | undefined): Tags {
  const out: Record<string, string> = {};
  for (const t of list ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
}

/** A map to EC2's `Tag[]`, sorted by key so requests are deterministic. */
export function toEc2Tags(tags: Tags): Ec2Tag[] {
  return Object.keys(tags)
    .sort()
    .map((Key) => ({ Key, Value: tags[Key] }));
}

/** EC2 `TagSpecifications` for a create call (CreateVolume, CreateNetworkInterface, CreateSecurityGroup...). */
export function toTagSpecifications(resourceType: Ec2ResourceType, tags: Tags): TagSpecification[] {
  return [{ ResourceType: resourceType, Tags: toEc2Tags(tags) }];
}

/** ELBv2's `Tags` list (CreateLoadBalancer, CreateTargetGroup, AddTags). */
export function toElbTags(tags: Tags): ElbTag[] {
  return Object.keys(tags)
    .sort()
    .map((Key) => ({ Key, Value: tags[Key] }));
}

/** Auto Scaling's `Tags` list for a group; `propagateAtLaunch` decides which keys reach its instances. */
export function toAutoScalingTags(groupName: string, tags: Tags, propagateAtLaunch: boolean | ((key: string) => boolean) = false): AsgTag[] {
  return Object.keys(tags)
    .sort()
    .map((Key) => ({
      ResourceId: groupName,
      ResourceType: 'auto-scaling-group',
      Key,
      Value: tags[Key],
      PropagateAtLaunch: typeof propagateAtLaunch === 'function' ? propagateAtLaunch(Key) : propagateAtLaunch,
    }));
}

// --- filters -----------------------------------------------------------------------------------

/** EC2 filters: everything kube-iaas created in this cluster (by the owner tags). */
export function ownedByClusterFilters(cluster: string): Ec2Filter[] {
  return [{ Name: `tag:${OWNER_CLUSTER_TAG}`, Values: [cluster] }];
}

/**
 * EC2 filters: what kube-iaas created for this owner. By kind and `namespace/name`; add `byUid` to
 * exclude what a deleted and recreated object of the same name left behind.
 */
export function ownedByOwnerFilters(cluster: string, owner: OwnerRef, opts: { byUid?: boolean } = {}): Ec2Filter[] {
  const filters: Ec2Filter[] = [
    ...ownedByClusterFilters(cluster),
    { Name: `tag:${OWNER_KIND_TAG}`, Values: [owner.kind] },
    { Name: `tag:${OWNER_TAG}`, Values: [ownerTagValue(owner)] },
  ];
  if (opts.byUid) filters.push({ Name: `tag:${OWNER_UID_TAG}`, Values: [owner.uid] });
  return filters;
}

/**
 * EC2 filter sets for "tagged for this cluster" (owned or shared, current or legacy tag). EC2 ANDs
 * filters, so the two tag forms are two alternative sets: describe with each and merge by ID.
 */
export function clusterTaggedFilterSets(cluster: string): Ec2Filter[][] {
  return [[{ Name: 'tag-key', Values: [clusterTagKey(cluster)] }], [{ Name: `tag:${LEGACY_CLUSTER_TAG}`, Values: [cluster] }]];
}

/** EC2 filters: subnets with the role tag for load balancers of this scheme. */
export function subnetRoleFilters(scheme: LoadBalancerScheme): Ec2Filter[] {
  return [{ Name: 'tag-key', Values: [subnetRoleTagKey(scheme)] }];
}

/** Auto Scaling filters for DescribeAutoScalingGroups: the cluster autoscaler's auto-discovery. */
export function autoscalerDiscoveryFilters(cluster: string): AsgFilter[] {
  return [
    { Name: 'tag-key', Values: [AUTOSCALER_ENABLED_TAG] },
    { Name: 'tag-key', Values: [autoscalerClusterTagKey(cluster)] },
  ];
}

/** A tag-map predicate equivalent to `ownedByOwnerFilters`, for APIs without tag filters (ELBv2). */
export function matchesOwner(cluster: string, owner: OwnerRef, opts: { byUid?: boolean } = {}): (tags: Tags) => boolean {
  return (tags) =>
    tags[OWNER_CLUSTER_TAG] === cluster &&
    tags[OWNER_KIND_TAG] === owner.kind &&
    tags[OWNER_TAG] === ownerTagValue(owner) &&
    (!opts.byUid || tags[OWNER_UID_TAG] === owner.uid);
}

/** A tag-map predicate equivalent to `ownedByClusterFilters`. */
export function matchesCluster(cluster: string): (tags: Tags) => boolean {
  return (tags) => tags[OWNER_CLUSTER_TAG] === cluster;
}
