// Stage 2: reconcile an AwsVolume. Find the EBS volume (status, import ID, owner tags) or create it,
// wait until available, grow it, write the PV, report status; on deletion detach and delete (reclaim
// Delete) or hand the volume over (Retain).
import {
  RetryAfterError,
  TerminalError,
  addFinalizer,
  classifyError,
  errorMessage,
  hasFinalizer,
  isBeingDeleted,
  isKubeAlreadyExists,
  removeFinalizer,
  resources,
  rfc3339,
  setConditions,
  type ConditionUpdate,
  type ReconcileResult,
} from '@kube-iaas/core/runtime';
import { classifyAwsError, instanceIdOfNode, type Volume } from '@kube-iaas/core/aws';
import type { AwsVolume, AwsVolumeStatus } from '@kube-iaas/crds';
import { AWS_VOLUME_FINALIZER, AWS_VOLUME_TYPE } from '../constants.ts';
import { volumeOwner } from '../aws/ebs.ts';
import { volumeMetrics } from '../metrics.ts';
import { judgeAdoption } from '../plan/adoption.ts';
import { judgeKmsKey, type KmsKeyLookup } from '../plan/kms.ts';
import { diffVolume } from '../plan/volume.ts';
import { buildPersistentVolume } from '../translate/pv.ts';
import { parseQuantity, roundUpGiB, gibQuantity } from '../translate/quantity.ts';
import type { PersistentVolume, PersistentVolumeClaim } from '../translate/types.ts';
import type { VolumeContext } from './context.ts';

const PV = resources.PersistentVolume;
const PVC = resources.PersistentVolumeClaim;
const POLL_MS = 1000;

type Status = AwsVolumeStatus;

function claimKey(av: AwsVolume): string | undefined {
  const c = av.spec.claimRef;
  return c ? `${c.namespace}/${c.name}` : undefined;
}

/** The claim of an AwsVolume from the cache, only if it is the same claim (by UID). */
function claimOf(ctx: VolumeContext, av: AwsVolume): PersistentVolumeClaim | undefined {
  const key = claimKey(av);
  const pvc = key ? ctx.informers.claims.get(key) : undefined;
  if (!pvc) return undefined;
  const uid = av.spec.claimRef?.uid;
  return uid && pvc.metadata?.uid !== uid ? undefined : pvc;
}

async function writeStatus(ctx: VolumeContext, av: AwsVolume, patch: Partial<Status>, conditions: ConditionUpdate[]): Promise<AwsVolume> {
  const generation = av.metadata.generation;
  const conds = setConditions(
    av.status?.conditions as never,
    conditions.map((c) => ({ ...c, ...(generation !== undefined ? { observedGeneration: generation } : {}) })),
  );
  const next: Record<string, unknown> = { ...patch, conditions: conds };
  if (generation !== undefined) next.observedGeneration = generation;
  const r = await ctx.status.merge(AWS_VOLUME_TYPE, av, next);
  return r.object;
}

function observed(vol: Volume, av: AwsVolume, ctx: VolumeContext): Partial<Status> {
  const s: Partial<Status> = {
    volumeId: vol.id,
    state: vol.state,
    availabilityZone: vol.availabilityZone,
    sizeGiB: vol.sizeGiB,
    volumeType: vol.volumeType,
    encrypted: vol.encrypted,
  };
  if (vol.iops !== undefined) s.iops = vol.iops;
  if (vol.throughput !== undefined) s.throughput = vol.throughput;
  const nodeOf = new Map<string, string>();
  for (const n of ctx.informers.nodes.list()) {
    const id = instanceIdOfNode(n);
    if (id && n.metadata?.name) nodeOf.set(id, n.metadata.name);
  }
  s.attachments = vol.attachments.map((a) => ({
    instanceId: a.instanceId,
    ...(nodeOf.get(a.instanceId) ? { nodeName: nodeOf.get(a.instanceId) } : {}),
    ...(a.device ? { device: a.device } : {}),
    state: a.state,
  }));
  void av;
  return s;
}

/** Reports a problem on the AwsVolume (condition) and its claim (ProvisioningFailed), then stops retrying. */
async function fail(ctx: VolumeContext, av: AwsVolume, reason: string, message: string, retry = false): Promise<never> {
  await writeStatus(ctx, av, {}, [
    { type: 'Ready', status: false, reason, message },
    { type: 'Synced', status: false, reason, message },
  ]).catch(() => undefined);
  const pvc = claimOf(ctx, av);
  if (pvc && !av.status?.persistentVolumeName) ctx.events.warning(pvc, 'ProvisioningFailed', `failed to provision volume ${av.metadata.name}: ${message}`, { type: PVC });
  ctx.events.warning(av, reason, message, { type: AWS_VOLUME_TYPE });
  if (retry) throw new Error(message);
  throw new TerminalError(message);
}

/** The ARN `spec.kmsKeyId` names, checked before CreateVolume; a bad key fails the AwsVolume (and its claim). */
async function checkKmsKey(ctx: VolumeContext, av: AwsVolume): Promise<string | undefined> {
  const keyId = av.spec.kmsKeyId;
  if (!keyId) return undefined;
  let lookup: KmsKeyLookup;
  try {
    lookup = await ctx.ebs.kmsKey(keyId);
  } catch (err) {
    const c = classifyAwsError(err);
    // Access denied and the like: fixable in IAM or the key policy, so keep retrying with backoff.
    if (c.kind === 'terminal') return fail(ctx, av, 'InvalidKmsKey', `kmsKeyId: cannot check KMS key ${keyId}: ${c.code}: ${c.message}; no volume was created`, true);
    throw err;
  }
  const verdict = judgeKmsKey(keyId, lookup, ctx.ebs.aws.region);
  if (!verdict.ok) return fail(ctx, av, 'InvalidKmsKey', verdict.message, verdict.retry);
  return verdict.arn;
}

async function locate(ctx: VolumeContext, av: AwsVolume): Promise<Volume | undefined> {
  const id = av.status?.volumeId ?? av.spec.volumeId;
  if (id) {
    const v = await ctx.ebs.describe(id);
    if (v || av.spec.volumeId) return v;
  }
  // A crash between CreateVolume and the status write leaves a volume tagged for this AwsVolume.
  const found = await ctx.ebs.findOwned(av);
  return found[0];
}

export async function reconcileAwsVolume(ctx: VolumeContext, name: string): Promise<ReconcileResult> {
  let av = ctx.informers.awsVolumes.get(name);
  if (!av?.metadata.uid) return;
  if (isBeingDeleted(av)) return finalize(ctx, av);
  if (!hasFinalizer(av, AWS_VOLUME_FINALIZER)) av = await addFinalizer(ctx.client, AWS_VOLUME_TYPE, av, AWS_VOLUME_FINALIZER);

  const pv = ctx.informers.volumes.get(name);
  const policy = av.spec.reclaimPolicy ?? 'Delete';

  // The claim went away: a released PV is deleted (Delete) or kept (Retain).
  if (pv?.status?.phase === 'Released' || pv?.status?.phase === 'Failed') {
    if ((pv.spec?.persistentVolumeReclaimPolicy ?? policy) === 'Delete') {
      await ctx.client.delete(AWS_VOLUME_TYPE, { name });
      return;
    }
    if (!av.status?.retained) {
      await writeStatus(ctx, av, { retained: true }, [
        { type: 'Ready', status: true, reason: 'Retained', message: `claim released; reclaim policy Retain keeps EBS volume ${av.status?.volumeId ?? ''} and PV ${name}` },
      ]);
      ctx.events.normal(av, 'VolumeRetained', `claim released; volume ${av.status?.volumeId ?? ''} kept (reclaim policy Retain)`, { type: AWS_VOLUME_TYPE });
    }
    return;
  }
  // The claim went away before its PV existed: nothing will ever bind this volume.
  if (!pv && av.spec.claimRef && !av.status?.persistentVolumeName && !claimOf(ctx, av)) {
    const live = await ctx.client.get<PersistentVolumeClaim>(PVC, av.spec.claimRef.name, av.spec.claimRef.namespace);
    if (!live || (av.spec.claimRef.uid && live.metadata?.uid !== av.spec.claimRef.uid)) {
      ctx.log.info({ awsVolume: name }, 'claim is gone before its PV was written; deleting the AwsVolume');
      await ctx.client.delete(AWS_VOLUME_TYPE, { name });
      return;
    }
  }

  const owner = volumeOwner(av);
  let vol = await locate(ctx, av);
  if (vol) {
    // Before anything is written for it (status, PV): a volume another owner holds is not imported.
    const verdict = judgeAdoption(vol.id, vol.tags, ctx.ebs.cluster, owner);
    if (!verdict.ok) return fail(ctx, av, 'Conflict', verdict.message);
  }
  if (!vol) {
    if (av.spec.volumeId) return fail(ctx, av, 'VolumeNotFound', `EBS volume ${av.spec.volumeId} (spec.volumeId) does not exist in ${ctx.ebs.aws.region}`);
    const zones = await ctx.ebs.clusterZones();
    const zone = av.spec.availabilityZone ?? '';
    if (!zones.includes(zone)) {
      return fail(ctx, av, 'InvalidZone', `spec.availabilityZone: ${zone} has no subnet tagged for cluster ${ctx.ebs.cluster} (cluster zones: ${zones.join(', ') || 'none'})`);
    }
    const kmsKeyArn = await checkKmsKey(ctx, av);
    try {
      volumeMetrics.operations.inc({ operation: 'create' });
      vol = await ctx.ebs.create(av, kmsKeyArn ? { kmsKeyArn } : {});
    } catch (err) {
      const c = classifyAwsError(err);
      if (c.kind === 'terminal') return fail(ctx, av, 'CreateVolumeFailed', `CreateVolume: ${c.code}: ${c.message}`);
      throw err;
    }
    ctx.log.info({ awsVolume: name, volumeId: vol.id, zone: vol.availabilityZone }, 'EBS volume created');
    av = await writeStatus(ctx, av, observed(vol, av, ctx), [{ type: 'Ready', status: false, reason: 'Creating', message: `EBS volume ${vol.id} is ${vol.state}` }]);
  }
  if (vol.state === 'creating') {
    await writeStatus(ctx, av, observed(vol, av, ctx), [{ type: 'Ready', status: false, reason: 'Creating', message: `EBS volume ${vol.id} is creating` }]);
    return { requeueAfter: POLL_MS };
  }
  if (vol.state === 'error' || vol.state === 'deleting' || vol.state === 'deleted') {
    return fail(ctx, av, 'VolumeError', `EBS volume ${vol.id} is ${vol.state}${av.spec.kmsKeyId ? ` (is KMS key ${av.spec.kmsKeyId} usable?)` : ''}`);
  }

  // Grow / retune in place.
  const diff = diffVolume(av.spec, vol);
  let modifying: string | undefined;
  if (diff.modify) {
    const m = await ctx.ebs.modificationState(vol.id);
    if (m?.state === 'modifying') modifying = `modification to ${m.targetSize ?? '?'} GiB in progress`;
    else if (m?.state === 'failed' && m.targetSize === diff.modify.Size) {
      return fail(ctx, av, 'ModifyVolumeFailed', `ModifyVolume of ${vol.id} failed: ${m.message ?? 'no message'}`);
    } else {
      try {
        volumeMetrics.operations.inc({ operation: 'modify' });
        await ctx.ebs.modify(owner, vol.id, diff.modify);
      } catch (err) {
        const c = classifyAwsError(err);
        if (c.kind === 'terminal') return fail(ctx, av, 'ModifyVolumeFailed', `ModifyVolume: ${c.code}: ${c.message}`);
        throw err;
      }
      modifying = `ModifyVolume ${JSON.stringify(diff.modify)} requested`;
      ctx.events.normal(av, 'Modifying', `EBS volume ${vol.id}: ${modifying}`, { type: AWS_VOLUME_TYPE });
    }
    vol = (await ctx.ebs.describe(vol.id)) ?? vol;
  }

  // The PV.
  const claim = claimOf(ctx, av);
  const pvName = name;
  if (!pv) {
    const sc = claim?.spec?.storageClassName ? ctx.informers.classes.get(claim.spec.storageClassName) : undefined;
    const body = buildPersistentVolume(av, { volumeId: vol.id, availabilityZone: vol.availabilityZone, sizeGiB: vol.sizeGiB }, claim, sc);
    try {
      await ctx.client.create<PersistentVolume>(PV, body);
      const created = av.metadata.creationTimestamp ? new Date(av.metadata.creationTimestamp).getTime() : undefined;
      if (created) volumeMetrics.provisionSeconds.observe((Date.now() - created) / 1000);
      if (claim) ctx.events.normal(claim, 'ProvisioningSucceeded', `Successfully provisioned volume ${name} (EBS ${vol.id} in ${vol.availabilityZone})`, { type: PVC });
    } catch (err) {
      if (!isKubeAlreadyExists(err)) throw err;
    }
  } else {
    await syncCapacity(ctx, pv, vol, claim);
  }

  const notes = [...diff.immutable.map((d) => `cannot change ${d}`), ...(diff.shrink ? [`cannot shrink from ${diff.shrink.from} to ${diff.shrink.to} GiB`] : [])];
  const inUse = vol.attachments.some((a) => a.state === 'attached');
  const ready: ConditionUpdate = modifying
    ? { type: 'Ready', status: true, reason: 'Modifying', message: `EBS volume ${vol.id}: ${modifying}` }
    : { type: 'Ready', status: true, reason: inUse ? 'InUse' : 'Available', message: `EBS volume ${vol.id} is ${vol.state}${notes.length ? `; ${notes.join('; ')}` : ''}` };
  await writeStatus(ctx, av, { ...observed(vol, av, ctx), persistentVolumeName: pvName, retained: false }, [
    ready,
    { type: 'Synced', status: notes.length === 0, reason: notes.length ? 'Immutable' : 'Reconciled', message: notes.join('; ') },
  ]);
  return modifying ? { requeueAfter: 2 * POLL_MS } : undefined;
}

/** After growth: PV capacity to the volume's size; the claim waits for the node to grow the filesystem. */
async function syncCapacity(ctx: VolumeContext, pv: PersistentVolume, vol: Volume, claim: PersistentVolumeClaim | undefined): Promise<void> {
  const current = parseQuantity(pv.spec?.capacity?.storage);
  if (current === undefined || roundUpGiB(current) >= vol.sizeGiB) return;
  const size = gibQuantity(vol.sizeGiB);
  await ctx.client.patch(PV, { name: pv.metadata?.name ?? '' }, { spec: { capacity: { storage: size } } });
  ctx.log.info({ pv: pv.metadata?.name, size }, 'PV capacity updated');
  if (!claim?.metadata?.name) return;
  if (pv.spec?.volumeMode === 'Block') {
    await ctx.client.patch(PVC, { name: claim.metadata.name, namespace: claim.metadata.namespace }, { status: { capacity: { storage: size } } }, { subresource: 'status' });
    return;
  }
  const now = rfc3339(new Date());
  const conditions = [
    ...(claim.status?.conditions ?? []).filter((c) => c.type !== 'FileSystemResizePending' && c.type !== 'Resizing'),
    { type: 'FileSystemResizePending', status: 'True', lastProbeTime: null, lastTransitionTime: now, message: 'Waiting for user to (re-)start a pod to finish file system resize of volume on node.' },
  ];
  await ctx.client.patch(PVC, { name: claim.metadata.name, namespace: claim.metadata.namespace }, { status: { conditions, allocatedResources: { storage: size } } }, { subresource: 'status' });
  ctx.events.normal(claim, 'FileSystemResizeRequired', `Require file system resize of volume on node (volume grown to ${size})`, { type: PVC });
}

/**
 * Deletion. No error here is left terminal: the finalizer would hold the AwsVolume until its next edit
 * or resync even after the cause went away (a volume the guard may not delete was deleted by hand, a
 * permission was granted). Every failure is retried with the queue's per-key backoff; the volume being
 * gone counts as done.
 */
async function finalize(ctx: VolumeContext, av: AwsVolume): Promise<ReconcileResult> {
  try {
    return await finalizeOnce(ctx, av);
  } catch (err) {
    const c = classifyError(err);
    if (!c.terminal) throw err;
    throw new RetryAfterError(`deleting AwsVolume ${av.metadata.name ?? ''}: ${c.message}`, 0, { cause: err });
  }
}

async function finalizeOnce(ctx: VolumeContext, av: AwsVolume): Promise<ReconcileResult> {
  if (!hasFinalizer(av, AWS_VOLUME_FINALIZER)) return;
  const name = av.metadata.name ?? '';
  const owner = volumeOwner(av);
  const policy = av.spec.reclaimPolicy ?? 'Delete';
  const known = av.status?.volumeId ?? av.spec.volumeId;
  const found: Volume[] = [];
  if (known) {
    const v = await ctx.ebs.describe(known);
    if (v) found.push(v);
  }
  // Anything else created for this AwsVolume (e.g. by a retry on an emulator that ignores ClientToken).
  for (const v of await ctx.ebs.findOwned(av)) if (!found.some((x) => x.id === v.id)) found.push(v);

  // A volume another owner holds (an import refused with Conflict) is not this AwsVolume's to detach,
  // delete or untag, and must not hold its deletion up either.
  const vols: Array<Volume & { ours: boolean }> = [];
  for (const v of found) {
    const verdict = judgeAdoption(v.id, v.tags, ctx.ebs.cluster, owner);
    if (verdict.ok) vols.push({ ...v, ours: verdict.ours });
    else ctx.events.normal(av, 'VolumeNotOwned', `EBS volume ${v.id} belongs to another owner; left as it is`, { type: AWS_VOLUME_TYPE });
  }

  if (policy === 'Delete') {
    let waiting = false;
    for (const v of vols) {
      if (v.state === 'deleting' || v.state === 'deleted') continue;
      const attached = v.attachments.filter((a) => a.state !== 'detached');
      if (attached.length) {
        waiting = true;
        for (const a of attached) {
          if (a.state === 'detaching') continue;
          volumeMetrics.operations.inc({ operation: 'detach' });
          await ctx.ebs.detach(owner, v.id, a.instanceId);
        }
        continue;
      }
      try {
        volumeMetrics.operations.inc({ operation: 'delete' });
        await ctx.ebs.delete(owner, v.id);
        ctx.events.normal(av, 'VolumeDeleted', `EBS volume ${v.id} deleted (reclaim policy Delete)`, { type: AWS_VOLUME_TYPE });
      } catch (err) {
        const c = classifyAwsError(err);
        if (c.kind === 'terminal') {
          const message = `DeleteVolume ${v.id}: ${c.code}: ${c.message}; retried with backoff until it succeeds or the volume is gone`;
          await writeStatus(ctx, av, {}, [{ type: 'Synced', status: false, reason: 'DeleteVolumeFailed', message }]).catch(() => undefined);
          ctx.events.warning(av, 'DeleteVolumeFailed', message, { type: AWS_VOLUME_TYPE });
        }
        throw err;
      }
    }
    if (waiting) {
      await writeStatus(ctx, av, {}, [{ type: 'Ready', status: false, reason: 'Detaching', message: 'detaching before deletion' }]).catch(() => undefined);
      return { requeueAfter: POLL_MS };
    }
    const pv = ctx.informers.volumes.get(name);
    if (pv && (!pv.spec?.csi?.volumeHandle || found.some((v) => v.id === pv.spec?.csi?.volumeHandle) || pv.spec.csi.volumeHandle === known)) {
      await ctx.client.delete(PV, { name });
    }
  } else {
    for (const v of vols) {
      if (!v.ours) continue;
      try {
        volumeMetrics.operations.inc({ operation: 'release' });
        await ctx.ebs.release(owner, v.id);
      } catch (err) {
        ctx.log.warn({ volumeId: v.id, err: errorMessage(err) }, 'could not remove owner tags from a retained volume');
        throw err;
      }
      ctx.events.normal(av, 'VolumeRetained', `EBS volume ${v.id} kept (reclaim policy Retain); its kube-iaas owner tags were removed`, { type: AWS_VOLUME_TYPE });
    }
  }
  await removeFinalizer(ctx.client, AWS_VOLUME_TYPE, av, AWS_VOLUME_FINALIZER);
  return;
}
