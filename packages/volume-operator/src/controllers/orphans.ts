// Volumes tagged as created for an AwsVolume of this cluster whose AwsVolume is gone: reported
// (Event + metric) and, when `available` and older than the grace period, deleted.
import { classifyAwsError } from '@kube-iaas/core/aws';
import { taggedOwner } from '@kube-iaas/core/tags';
import { type ReconcileResult } from '@kube-iaas/core/runtime';
import { AWS_VOLUME_TYPE } from '../constants.ts';
import { volumeMetrics } from '../metrics.ts';
import type { VolumeContext } from './context.ts';

export interface OrphanOptions {
  intervalMs: number;
  /** Delete orphans older than this; 0 only reports them. */
  gracePeriodMs: number;
}

export async function sweepOrphans(ctx: VolumeContext, opts: OrphanOptions): Promise<ReconcileResult> {
  const vols = await ctx.ebs.listOwnedByCluster();
  let orphans = 0;
  for (const v of vols) {
    if (v.state === 'deleting' || v.state === 'deleted') continue;
    const owner = taggedOwner(v.tags);
    if (!owner) continue;
    const av = ctx.informers.awsVolumes.get(owner.name);
    if (av && (!owner.uid || av.metadata.uid === owner.uid)) continue;
    orphans++;
    const ref = { apiVersion: AWS_VOLUME_TYPE.apiVersion, kind: AWS_VOLUME_TYPE.kind, metadata: { name: owner.name, ...(owner.uid ? { uid: owner.uid } : {}) } };
    const age = v.createTime ? Date.now() - v.createTime.getTime() : 0;
    const eligible = opts.gracePeriodMs > 0 && v.state === 'available' && age > opts.gracePeriodMs;
    ctx.events.warning(ref, 'OrphanedVolume', `EBS volume ${v.id} (${v.state}, ${v.sizeGiB} GiB in ${v.availabilityZone}) was created for AwsVolume ${owner.name}, which no longer exists${eligible ? '; deleting it' : ''}`, { type: AWS_VOLUME_TYPE });
    ctx.log.warn({ volumeId: v.id, awsVolume: owner.name, state: v.state, ageMs: age }, 'orphaned EBS volume');
    if (!eligible) continue;
    try {
      await ctx.ebs.delete({ kind: owner.kind, name: owner.name, uid: owner.uid ?? '' }, v.id);
      volumeMetrics.orphansDeleted.inc();
    } catch (err) {
      ctx.log.warn({ volumeId: v.id, err: classifyAwsError(err).message }, 'could not delete orphaned volume');
    }
  }
  volumeMetrics.orphans.set(orphans);
  return { requeueAfter: opts.intervalMs };
}
