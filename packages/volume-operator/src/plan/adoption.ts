// May an AwsVolume use an EBS volume it found by ID (spec.volumeId, or a status written earlier)? Pure:
// judged on the volume's tags as DescribeVolumes returned them.
import {
  OWNER_CLUSTER_TAG,
  OWNER_KIND_TAG,
  OWNER_TAG,
  OWNER_UID_TAG,
  clusterOwnership,
  clusterTagKey,
  isOwnedBy,
  taggedOwner,
  type OwnerRef,
  type Tags,
} from '@kube-iaas/core/tags';

export type AdoptionVerdict =
  /** `ours`: created for this AwsVolume (its owner tags); otherwise an import of a volume nobody owns. */
  | { ok: true; ours: boolean }
  | { ok: false; message: string };

const OWNER_KEYS = [OWNER_CLUSTER_TAG, OWNER_KIND_TAG, OWNER_TAG, OWNER_UID_TAG] as const;

/**
 * A hand-written AwsVolume must not get more than a hand-written PV would be worth to a tenant, and the
 * guard alone is not enough: it stops attach and delete of another owner's volume, but binding a PV to
 * it would already hand the data to the wrong claim. So a volume is refused when its tags say it
 * belongs elsewhere:
 * - tagged for another cluster (`kubernetes.io/cluster/<other>` or the legacy `KubernetesCluster`);
 * - carrying kube-iaas owner tags (any of the four) that do not name this AwsVolume (name, and UID if tagged):
 *   another AwsVolume's volume, a leftover of a deleted one (the orphan sweep may still take it), or
 *   another cluster's.
 * Untagged volumes, volumes tagged `shared` for this cluster, and volumes handed over by reclaim
 * Retain (cluster tag kept, owner tags removed) may be imported.
 */
export function judgeAdoption(volumeId: string, tags: Tags, cluster: string, owner: OwnerRef): AdoptionVerdict {
  const cl = clusterOwnership(tags, cluster);
  if (cl.state === 'other-cluster') {
    return {
      ok: false,
      message: `spec.volumeId: EBS volume ${volumeId} is tagged for cluster ${cl.clusters.join(', ')}, not ${cluster} (tag ${clusterTagKey(cl.clusters[0] ?? '')}); it cannot be imported here`,
    };
  }
  if (!OWNER_KEYS.some((k) => tags[k] !== undefined)) return { ok: true, ours: false };
  // By name and UID; a UID-less set naming this AwsVolume is how an admin hands a volume to it by hand (the guard reads it the same way).
  if (isOwnedBy(tags, cluster, owner)) return { ok: true, ours: true };
  const t = taggedOwner(tags);
  const whose = t
    ? `${t.kind} ${t.namespace ? `${t.namespace}/` : ''}${t.name}${t.uid ? ` (uid ${t.uid})` : ''}${t.cluster !== cluster ? ` of kube-iaas cluster ${t.cluster}` : ''}`
    : `another owner (${OWNER_KEYS.filter((k) => tags[k] !== undefined)
        .map((k) => `${k}=${tags[k]}`)
        .join(', ')})`;
  return {
    ok: false,
    message: `spec.volumeId: EBS volume ${volumeId} is owned by ${whose}, not by this AwsVolume; only a volume no other owner holds (untagged, tagged ${clusterTagKey(cluster)}=shared, or handed over by reclaim policy Retain) can be imported`,
  };
}
