// Stage 1, the external-provisioner's half: a claim of our class becomes an AwsVolume; a bound claim
// asking for more grows its AwsVolume's spec.sizeGiB.
import {
  RetryAfterError,
  classifyError,
  errorMessage,
  isKubeAlreadyExists,
  resources,
  type ReconcileResult,
} from '@kube-iaas/core/runtime';
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
  const existing = inf.awsVolumes.get(name);
  if (existing) return reportForeign(ctx, pvc, existing); // else the volume controller takes it from here

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
    if (isKubeAlreadyExists(err)) {
      const live = await ctx.client.get<AwsVolume>(AWS_VOLUME_TYPE, name);
      if (live) return reportForeign(ctx, pvc, live);
    }
    // Whatever stopped the create (an admission policy, a quota, a webhook, an API server error) is
    // only in this process's log otherwise; the claim would show nothing but ExternalProvisioning.
    const message = `failed to provision volume with StorageClass "${scName}": cannot create AwsVolume ${name}: ${errorMessage(err)}`;
    ctx.events.warning(pvc, 'ProvisioningFailed', message, { type: PVC });
    ctx.log.warn({ claim: key, awsVolume: name, err: errorMessage(err) }, 'cannot create the AwsVolume of a claim');
    // Retried with backoff even when the API server calls it final (422 from a policy): the policy
    // may be changed, and nothing else would wake this claim.
    if (classifyError(err).terminal) throw new RetryAfterError(message, 0, { cause: err });
    throw err;
  }
  return;
}

/**
 * An AwsVolume of the name this claim's volume must have (`pvc-<claim uid>`) that is not for this claim:
 * only a hand-written one can be. It is left alone (it may be someone's volume) and the claim says why
 * it waits; deleting that AwsVolume wakes the claim again.
 */
function reportForeign(ctx: VolumeContext, pvc: PersistentVolumeClaim, av: AwsVolume): ReconcileResult {
  const ref = av.spec.claimRef;
  if (ref && ref.namespace === pvc.metadata?.namespace && ref.name === pvc.metadata?.name && (!ref.uid || ref.uid === pvc.metadata?.uid)) return;
  ctx.events.warning(
    pvc,
    'ProvisioningFailed',
    `failed to provision volume: AwsVolume ${av.metadata.name ?? ''} already exists and its spec.claimRef does not name this claim (by namespace, name and uid); delete that AwsVolume to let this claim be provisioned`,
    { type: PVC },
  );
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

