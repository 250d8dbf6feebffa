// Stage 1, the external-provisioner's half: a claim of our class becomes an AwsVolume; a bound claim
// asking for more grows its AwsVolume's spec.sizeGiB.
import { isKubeAlreadyExists, resources, type ReconcileResult } from '@kube-iaas/core';
import type { AwsVolume } from '@kube-iaas/crds';
import { AWS_VOLUME_TYPE, ZONE_LABELS } from '../constants.ts';
import { volumeMetrics } from '../metrics.ts';
import { expandedSizeGiB, isOurClass, translateClaim, volumeNameForClaim } from '../translate/claim.ts';
import type { Node, PersistentVolumeClaim } from '../translate/types.ts';
import { SELECTED_NODE_ANNOTATION } from '../constants.ts';
import type { VolumeContext } from './context.ts';

const PVC = resources.PersistentVolumeClaim;

function nodeZone(node: Node | undefined): string | undefined {
  const labels = node?.metadata?.labels ?? {};
  for (const l of ZONE_LABELS) if (labels[l]) return labels[l];
  return undefined;
}

export async function reconcileClaim(ctx: VolumeContext, key: string): Promise<ReconcileResult> {
  const { informers: inf } = ctx;
  const pvc = inf.claims.get(key);
  if (!pvc?.metadata?.uid) return;
  const scName = pvc.spec?.storageClassName;
  const sc = scName ? inf.classes.get(scName) : undefined;
  if (!isOurClass(sc)) return;

  // Bound: expansion only.
  const bound = pvc.spec?.volumeName;
  if (bound) {
    const av = inf.awsVolumes.get(bound);
    if (!av || (av.spec.claimRef?.uid && av.spec.claimRef.uid !== pvc.metadata.uid)) return;
    const want = expandedSizeGiB(pvc, av.spec.sizeGiB);
    if (want === undefined) return;
    await ctx.client.patch<AwsVolume>(AWS_VOLUME_TYPE, { name: bound }, { spec: { sizeGiB: want } });
    ctx.events.normal(pvc, 'Resizing', `External resizer is resizing volume ${bound} to ${want} GiB`, { type: PVC });
    return;
  }

  const name = volumeNameForClaim(pvc);
  if (inf.awsVolumes.get(name)) return; // the volume controller takes it from here

  const selected = pvc.metadata.annotations?.[SELECTED_NODE_ANNOTATION];
  const t = translateClaim(pvc, sc, { clusterZones: await ctx.ebs.clusterZones(), selectedNodeZone: selected ? nodeZone(inf.nodes.get(selected)) : undefined });
  if (t.kind === 'skip') return;
  if (t.kind === 'invalid') {
    volumeMetrics.invalid.inc();
    ctx.events.warning(pvc, 'ProvisioningFailed', `failed to provision volume with StorageClass "${scName}": ${t.errors.map((e) => e.message).join('; ')}`, { type: PVC });
    ctx.log.warn({ claim: key, errors: t.errors }, 'claim cannot be provisioned');
    return; // terminal until the claim or its class changes
  }
  try {
    await ctx.client.create<AwsVolume>(AWS_VOLUME_TYPE, t.volume);
    ctx.events.normal(pvc, 'Provisioning', `External provisioner is provisioning volume for claim "${key}" (AwsVolume ${name})`, { type: PVC });
  } catch (err) {
    if (!isKubeAlreadyExists(err)) throw err;
  }
  return;
}

/** Claims whose class is `scName` (a class change may make a failed claim provisionable). */
export function claimsOfClass(ctx: VolumeContext, scName: string | undefined): string[] {
  if (!scName) return [];
  return ctx.informers.claims
    .list()
    .filter((c: PersistentVolumeClaim) => c.spec?.storageClassName === scName && !c.spec?.volumeName)
    .map((c) => `${c.metadata?.namespace}/${c.metadata?.name}`);
}

