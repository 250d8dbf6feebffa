import {
  CLUSTER_OWNED,
  CLUSTER_TAG_PREFIX,
  LEGACY_CLUSTER_TAG,
  OWNER_CLUSTER_TAG,
  OWNER_DESCRIPTION_PREFIX,
  OWNER_KIND_TAG,
  OWNER_TAG,
  OWNER_UID_TAG,
  autoscalerClusterTagKey,
  clusterTagKey,
} from './keys.ts';
import { isAutoscalerDiscoverable, ownerKey, ownerTagValue, type OwnerRef, type Tags } from './tags.ts';

/**
 * How much a mutation changes a resource:
 * - `any`: modify, replace or delete; only on resources `owned` by this cluster.
 * - `additive`: add something without touching what is there (a security-group rule, a secondary IP,
 *   attaching a volume to an instance). Allowed on `owned` and `shared` resources.
 * - `retract`: remove something kube-iaas added before. On `shared` resources only when each removed
 *   item's description names a kube-iaas owner of this cluster (`describedBy`).
 * - `scale`: change an Auto Scaling group's size; also allowed on groups that carry the cluster
 *   autoscaler's discovery tags for this cluster.
 */
export type ChangeKind = 'any' | 'additive' | 'retract' | 'scale';

/** What a resource's tags say about this cluster. */
export type ClusterOwnership =
  | { state: 'owned' }
  | { state: 'shared' }
  | { state: 'other-cluster'; clusters: string[] }
  | { state: 'untagged' };

/** A resource about to be changed, with its tags as they are in AWS now. */
export interface GuardedResource {
  /** ID or ARN, or ASG name. */
  id: string;
  /** Human name of the kind for messages, e.g. `security group`, `volume`, `load balancer`. */
  type?: string;
  tags: Tags;
}

export interface MutationCheck {
  cluster: string;
  change: ChangeKind;
  /** The object on whose behalf the change is made; names it in rule descriptions and messages. */
  owner?: OwnerRef;
  /**
   * The resource must carry kube-iaas owner tags for this cluster, and for `owner` when given
   * (matched by kind, `namespace/name` and UID). Use for changes only the creator may make.
   */
  mustBeOurs?: boolean;
  /** For `retract` on shared resources: the descriptions of the items being removed. */
  describedBy?: ReadonlyArray<string | undefined>;
}

/** Proof that a check passed; carries the description to put on additive changes. */
export interface MutationPermit {
  resourceId: string;
  resourceType?: string;
  change: ChangeKind;
  ownership: 'owned' | 'shared' | 'autoscaler-discovered';
  /** `ownerDescription(cluster, owner)` when an owner was given: use it on rules you add. */
  description?: string;
}

export type OwnershipRefusal =
  | 'untagged'
  | 'other-cluster'
  | 'shared'
  | 'not-ours'
  | 'foreign-description'
  | 'untagged-create'
  | 'no-rule';

export interface OwnershipErrorDetails {
  reason: OwnershipRefusal;
  cluster: string;
  resourceId?: string;
  resourceType?: string;
  change?: ChangeKind;
  /** The tag (key or `key=value`) whose absence made the guard refuse. */
  missingTag?: string;
  /** AWS operation that was refused, when the refusal came from a client. */
  operation?: string;
}

/**
 * The ownership guard refused a change. Not an AWS error: no call was made. Classified as terminal
 * (`code` `OwnershipRefused`): retrying cannot help until someone tags the resource.
 */
export class OwnershipError extends Error {
  override readonly name = 'OwnershipError';
  readonly code = 'OwnershipRefused';
  readonly kind = 'terminal';
  readonly reason: OwnershipRefusal;
  readonly cluster: string;
  readonly resourceId: string | undefined;
  readonly resourceType: string | undefined;
  readonly change: ChangeKind | undefined;
  readonly missingTag: string | undefined;
  readonly operation: string | undefined;

  constructor(message: string, details: OwnershipErrorDetails) {
    super(message);
    this.reason = details.reason;
    this.cluster = details.cluster;
    this.resourceId = details.resourceId;
    this.resourceType = details.resourceType;
    this.change = details.change;
    this.missingTag = details.missingTag;
    this.operation = details.operation;
  }
}

/**
 * Reads the cluster tags. `owned` needs `kubernetes.io/cluster/<cluster>=owned` (and no legacy tag
 * naming another cluster). The legacy `KubernetesCluster=<cluster>` alone, or the new key with any
 * other value, counts as `shared`: it cannot say "owned", so the weaker reading wins.
 */
export function clusterOwnership(tags: Tags, cluster: string): ClusterOwnership {
  const ours = tags[clusterTagKey(cluster)];
  const legacy = tags[LEGACY_CLUSTER_TAG];
  if (ours !== undefined) {
    return ours === CLUSTER_OWNED && (legacy === undefined || legacy === cluster) ? { state: 'owned' } : { state: 'shared' };
  }
  if (legacy === cluster) return { state: 'shared' };
  const others = new Set<string>();
  for (const key of Object.keys(tags)) if (key.startsWith(CLUSTER_TAG_PREFIX)) others.add(key.slice(CLUSTER_TAG_PREFIX.length));
  if (legacy !== undefined && legacy !== '') others.add(legacy);
  return others.size > 0 ? { state: 'other-cluster', clusters: [...others].sort() } : { state: 'untagged' };
}

const DESCRIPTION_RE = /^kube-iaas\.dev cluster=(\S+) owner=([^/\s]+)(?:\/(\S+?))?(?: uid=(\S+))?$/;
const MAX_DESCRIPTION = 255;

/**
 * The description kube-iaas puts on what it adds to a resource it does not own (a security-group
 * rule): `kube-iaas.dev cluster=<cluster> owner=<Kind>/<namespace>/<name> uid=<uid>`. It names the
 * owner for humans and lets the guard allow removing it later. When that exceeds EC2's 255
 * characters, the name is left out (`owner=<Kind> uid=<uid>`) and the UID identifies the owner.
 */
export function ownerDescription(cluster: string, owner: OwnerRef): string {
  const prefix = `${OWNER_DESCRIPTION_PREFIX} cluster=${cluster} owner=${owner.kind}`;
  const full = `${prefix}/${ownerKey(owner)} uid=${owner.uid}`;
  if (full.length <= MAX_DESCRIPTION) return full;
  const short = `${prefix} uid=${owner.uid}`;
  if (short.length <= MAX_DESCRIPTION) return short;
  throw new Error(`owner description for ${owner.kind} ${ownerKey(owner)} exceeds ${MAX_DESCRIPTION} characters`);
}

export interface DescribedOwner {
  cluster: string;
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
}

/** Parses `ownerDescription()` output; undefined for anything else. */
export function parseOwnerDescription(description: string | undefined): DescribedOwner | undefined {
  const m = description ? DESCRIPTION_RE.exec(description.trim()) : null;
  if (!m?.[1] || !m[2] || (!m[3] && !m[4])) return undefined;
  const path = m[3] ?? '';
  const slash = path.indexOf('/');
  const out: DescribedOwner = slash < 0 ? { cluster: m[1], kind: m[2], name: path } : { cluster: m[1], kind: m[2], namespace: path.slice(0, slash), name: path.slice(slash + 1) };
  if (m[4]) out.uid = m[4];
  return out;
}

function describesOwner(d: DescribedOwner, cluster: string, owner: OwnerRef | undefined): boolean {
  if (d.cluster !== cluster) return false;
  if (!owner) return true;
  if (d.name === '') return d.kind === owner.kind && d.uid === owner.uid;
  return d.kind === owner.kind && d.name === owner.name && (d.namespace ?? '') === (owner.namespace ?? '') && (d.uid === undefined || d.uid === owner.uid);
}

/**
 * True when `description` (a security-group rule's) is `ownerDescription(cluster, owner)`, in its full or
 * UID-only form: how an operator finds its own rules on a group it does not own.
 */
export function isDescribedBy(description: string | undefined, cluster: string, owner: OwnerRef): boolean {
  const d = parseOwnerDescription(description);
  return !!d && describesOwner(d, cluster, owner);
}

function label(resource: { id: string; type?: string | undefined }): string {
  return resource.type ? `${resource.type} ${resource.id}` : resource.id;
}

function ownerLabel(owner: OwnerRef): string {
  return `${owner.kind} ${ownerKey(owner)}`;
}

/**
 * Every description must name a kube-iaas owner in this cluster (and `owner`, when given). Used for
 * rules added to, or removed from, shared resources.
 */
export function assertOwnerDescriptions(
  resource: { id: string; type?: string | undefined },
  descriptions: ReadonlyArray<string | undefined>,
  opts: { cluster: string; change: ChangeKind; owner?: OwnerRef | undefined; operation?: string | undefined },
): void {
  for (const d of descriptions) {
    const parsed = parseOwnerDescription(d);
    if (parsed && describesOwner(parsed, opts.cluster, opts.owner)) continue;
    const whose = opts.owner ? ownerLabel(opts.owner) : `a kube-iaas owner in cluster ${opts.cluster}`;
    throw new OwnershipError(
      `refusing ${opts.change} change to ${label(resource)}: it is shared, so each rule must be described with its owner ` +
        `(${whose}, e.g. "${opts.owner ? ownerDescription(opts.cluster, opts.owner) : `${OWNER_DESCRIPTION_PREFIX} cluster=${opts.cluster} owner=<Kind>/<namespace>/<name>`}"); found ${d === undefined ? 'no description' : `"${d}"`}`,
      { reason: 'foreign-description', cluster: opts.cluster, resourceId: resource.id, resourceType: resource.type, change: opts.change, operation: opts.operation },
    );
  }
}

/**
 * The ownership guard's rule, as a pure function over a resource's current tags. Returns a permit or
 * throws `OwnershipError` naming the resource and the tag that is missing:
 * - untagged, or tagged for another cluster: never changed;
 * - `shared`: `additive` changes, `retract` of items described with a kube-iaas owner, `scale` of a
 *   group with autoscaler discovery tags; never `any`;
 * - `owned`: any change; with `mustBeOurs`, only if the kube-iaas owner tags match.
 */
export function assertMutable(resource: GuardedResource, check: MutationCheck & { operation?: string }): MutationPermit {
  const { cluster, change, owner } = check;
  const tagKey = clusterTagKey(cluster);
  const details = { cluster, resourceId: resource.id, resourceType: resource.type, change, operation: check.operation };
  const ownership = clusterOwnership(resource.tags, cluster);
  const permit = (kind: MutationPermit['ownership']): MutationPermit => {
    const p: MutationPermit = { resourceId: resource.id, change, ownership: kind };
    if (resource.type) p.resourceType = resource.type;
    if (owner) p.description = ownerDescription(cluster, owner);
    return p;
  };

  if (ownership.state === 'untagged' || ownership.state === 'other-cluster') {
    if (change === 'scale' && ownership.state === 'untagged' && isAutoscalerDiscoverable(resource.tags, cluster)) return permit('autoscaler-discovered');
    const where =
      ownership.state === 'untagged'
        ? 'it carries no cluster tag; untagged resources are never changed'
        : `it is tagged for cluster ${ownership.clusters.join(', ')}, not ${cluster}`;
    throw new OwnershipError(
      `refusing ${change} change to ${label(resource)}: ${where} (missing tag ${tagKey}=owned|shared or ${LEGACY_CLUSTER_TAG}=${cluster})`,
      { ...details, reason: ownership.state, missingTag: tagKey },
    );
  }

  if (check.mustBeOurs) assertOurs(resource, check, details);

  if (ownership.state === 'owned') return permit('owned');

  // shared
  switch (change) {
    case 'additive':
      return permit('shared');
    case 'retract':
      if (!check.describedBy) {
        throw new OwnershipError(
          `refusing retract change to ${label(resource)}: it is shared (${tagKey}=${resource.tags[tagKey] ?? ''}${resource.tags[tagKey] === undefined ? `, ${LEGACY_CLUSTER_TAG}=${cluster}` : ''}), and removing from it needs the descriptions of what is removed`,
          { ...details, reason: 'foreign-description' },
        );
      }
      assertOwnerDescriptions(resource, check.describedBy, { cluster, change, owner, operation: check.operation });
      return permit('shared');
    case 'scale':
      if (isAutoscalerDiscoverable(resource.tags, cluster)) return permit('shared');
      throw new OwnershipError(
        `refusing scale change to ${label(resource)}: it is shared with cluster ${cluster} and has no autoscaler discovery tags (missing tag ${autoscalerClusterTagKey(cluster)})`,
        { ...details, reason: 'shared', missingTag: autoscalerClusterTagKey(cluster) },
      );
    case 'any':
      throw new OwnershipError(
        `refusing any change to ${label(resource)}: it is shared with cluster ${cluster}, not owned by it; only additive changes described with their owner are allowed (missing tag ${tagKey}=owned)`,
        { ...details, reason: 'shared', missingTag: `${tagKey}=owned` },
      );
  }
}

function assertOurs(resource: GuardedResource, check: MutationCheck, details: Omit<OwnershipErrorDetails, 'reason'>): void {
  const { cluster, owner } = check;
  const tags = resource.tags;
  const want: Array<[string, string | undefined]> = [[OWNER_CLUSTER_TAG, cluster]];
  if (owner) want.push([OWNER_KIND_TAG, owner.kind], [OWNER_TAG, ownerTagValue(owner)]);
  for (const [key, value] of want) {
    if (tags[key] !== value) {
      throw new OwnershipError(
        `refusing ${check.change} change to ${label(resource)}: it was not created by kube-iaas ${owner ? `for ${ownerLabel(owner)} ` : ''}in cluster ${cluster} (missing tag ${key}=${value}${tags[key] !== undefined ? `, found ${tags[key]}` : ''})`,
        { ...details, reason: 'not-ours', missingTag: `${key}=${value}` },
      );
    }
  }
  if (owner && tags[OWNER_UID_TAG] !== undefined && tags[OWNER_UID_TAG] !== owner.uid) {
    throw new OwnershipError(
      `refusing ${check.change} change to ${label(resource)}: it belongs to an earlier ${ownerLabel(owner)} (tag ${OWNER_UID_TAG}=${tags[OWNER_UID_TAG]}, expected ${owner.uid})`,
      { ...details, reason: 'not-ours', missingTag: `${OWNER_UID_TAG}=${owner.uid}` },
    );
  }
}

/**
 * The tags a create call must carry (checked by the guard before any Create* call): the cluster tag
 * `owned`, and the owner tags for this cluster (for `owner`, when given).
 */
export function assertCreateTags(
  what: string,
  tags: Tags | undefined,
  opts: { cluster: string; owner?: OwnerRef | undefined; operation?: string | undefined },
): void {
  const { cluster, owner } = opts;
  const want: Array<[string, string]> = [
    [clusterTagKey(cluster), CLUSTER_OWNED],
    [OWNER_CLUSTER_TAG, cluster],
  ];
  if (owner) want.push([OWNER_KIND_TAG, owner.kind], [OWNER_TAG, ownerTagValue(owner)], [OWNER_UID_TAG, owner.uid]);
  else {
    want.push([OWNER_KIND_TAG, tags?.[OWNER_KIND_TAG] || '<kind>'], [OWNER_TAG, tags?.[OWNER_TAG] || '<owner>'], [OWNER_UID_TAG, tags?.[OWNER_UID_TAG] || '<uid>']);
  }
  for (const [key, value] of want) {
    if (!tags || tags[key] !== value) {
      throw new OwnershipError(
        `refusing to create ${what} without kube-iaas ownership tags: missing tag ${key}=${value} (build the tags with ownedTags())`,
        { reason: 'untagged-create', cluster, resourceType: what, missingTag: `${key}=${value}`, operation: opts.operation },
      );
    }
  }
}
