// Who else names a pool's instance, from the informers' indexes: the Nodes whose providerID names it
// and the EniPools whose spec names it. The rule that picks the holder is the pure `instanceHolder`.
import type { V1Node } from '@kubernetes/client-node';
import type { EniPool } from '@kube-iaas/crds';
import { instanceIdOfNode, type NetworkInterface } from '@kube-iaas/core/aws';
import { taggedOwner } from '@kube-iaas/core/tags';
import { type Informer } from '@kube-iaas/core/runtime';
import type { ClaimInput } from '../plan/index.ts';

/** Index of both informers: the instance a Node runs on, the instance a pool names. */
export const INSTANCE_INDEX = 'instanceId';

export const nodeInstance = (n: V1Node): string | undefined => instanceIdOfNode(n);
export const poolInstance = (p: EniPool): string | undefined => p.spec?.instanceId || undefined;

const iso = (t: Date | string | undefined): string | undefined => (t === undefined ? undefined : new Date(t).toISOString());

/** The claim on `instanceId` as the caches see it; `enis` (the instance's attached ENIs) adds the owner tags. */
export function claimInput(nodes: Informer<V1Node>, pools: Informer<EniPool>, instanceId: string, cluster: string, enis: readonly NetworkInterface[] = []): ClaimInput {
  const taggedUids = new Set<string>();
  for (const n of enis) {
    const o = taggedOwner(n.tags);
    if (o?.cluster === cluster && o.kind === 'EniPool' && o.uid) taggedUids.add(o.uid);
  }
  return {
    instanceId,
    nodes: nodes
      .byIndex(INSTANCE_INDEX, instanceId)
      .filter((n) => n.metadata?.name)
      .map((n) => ({ name: n.metadata!.name!, createdAt: iso(n.metadata?.creationTimestamp) })),
    pools: pools
      .byIndex(INSTANCE_INDEX, instanceId)
      .filter((p) => p.metadata.name && p.metadata.uid)
      .map((p) => ({ name: p.metadata.name!, uid: p.metadata.uid!, createdAt: iso(p.metadata.creationTimestamp) })),
    taggedUids,
  };
}
