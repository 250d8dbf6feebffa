// The external-attacher's half: VolumeAttachments of our driver (created by the attach/detach
// controller of kube-controller-manager) become AttachVolume / DetachVolume calls.
import { PROVIDER_ID_FORM, classifyAwsError, parseProviderId } from '@kube-iaas/core/aws';
import {
  TerminalError,
  addFinalizer,
  hasFinalizer,
  isBeingDeleted,
  removeFinalizer,
  resources,
  rfc3339,
  type ReconcileResult,
} from '@kube-iaas/core/runtime';
import { type OwnerRef } from '@kube-iaas/core/tags';
import { ATTACHER_FINALIZER, DEVICE_PATH_KEY, DRIVER_NAME, VOLUME_ID_KEY } from '../constants.ts';
import { volumeOwner } from '../aws/ebs.ts';
import { volumeMetrics } from '../metrics.ts';
import { checkAttachCapacity } from '../plan/limits.ts';
import type { VolumeAttachment } from '../translate/types.ts';
import type { VolumeContext } from './context.ts';

const VA = resources.VolumeAttachment;
const INSTANCE_ID_KEY = 'instanceId';
const POLL_MS = 500;

async function setStatus(ctx: VolumeContext, va: VolumeAttachment, status: Record<string, unknown>): Promise<void> {
  await ctx.client.patch(VA, { name: va.metadata?.name ?? '' }, { status }, { subresource: 'status' });
}

/** Records an attach (or detach) error on the VolumeAttachment; the AD controller shows it on the pod. */
async function attachError(ctx: VolumeContext, va: VolumeAttachment, message: string, opts: { terminal?: boolean; detach?: boolean; retryMs?: number } = {}): Promise<ReconcileResult> {
  const field = opts.detach ? 'detachError' : 'attachError';
  if (va.status?.[field]?.message !== message) {
    await setStatus(ctx, va, { attached: va.status?.attached ?? false, [field]: { time: rfc3339(new Date()), message } });
    ctx.events.warning(va, opts.detach ? 'DetachFailed' : 'AttachFailed', message, { type: VA });
  }
  if (opts.terminal) throw new TerminalError(message);
  return { requeueAfter: opts.retryMs ?? 5000 };
}

interface Target {
  volumeId: string;
  instanceId: string;
  owner?: OwnerRef;
  pvName: string;
}

/** Volume and instance of an attachment: from the PV and the Node, or what we published when attaching. */
function resolve(ctx: VolumeContext, va: VolumeAttachment): { target?: Target; problem?: string; terminal?: boolean } {
  const pvName = va.spec.source.persistentVolumeName;
  if (!pvName) return { problem: 'inline volumes are not supported by ebs.kube-iaas.dev; use a PersistentVolume', terminal: true };
  const meta = va.status?.attachmentMetadata ?? {};
  const pv = ctx.informers.volumes.get(pvName);
  const volumeId = pv?.spec?.csi?.driver === DRIVER_NAME ? pv.spec.csi.volumeHandle : meta[VOLUME_ID_KEY];
  if (!volumeId) return { problem: `PersistentVolume ${pvName} not found or not a ${DRIVER_NAME} volume` };
  const node = ctx.informers.nodes.get(va.spec.nodeName);
  const fromNode = parseProviderId(node?.spec?.providerID)?.instanceId;
  const instanceId = fromNode ?? meta[INSTANCE_ID_KEY];
  if (!instanceId) {
    return node
      ? { problem: `node ${va.spec.nodeName} has no spec.providerID of the form ${PROVIDER_ID_FORM} (found ${JSON.stringify(node.spec?.providerID ?? '')}); cannot tell which instance to attach ${volumeId} to` }
      : { problem: `node ${va.spec.nodeName} not found` };
  }
  const av = ctx.informers.awsVolumes.get(pvName);
  return { target: { volumeId, instanceId, pvName, ...(av?.metadata.uid ? { owner: volumeOwner(av) } : {}) } };
}

export async function reconcileAttachment(ctx: VolumeContext, name: string): Promise<ReconcileResult> {
  let va = ctx.informers.attachments.get(name);
  if (!va || va.spec.attacher !== DRIVER_NAME) return;
  if (isBeingDeleted(va)) return detach(ctx, va);
  if (va.status?.attached) return; // level-checked again on resync only through the AwsVolume status
  if (!hasFinalizer(va, ATTACHER_FINALIZER)) va = await addFinalizer(ctx.client, VA, va, ATTACHER_FINALIZER);

  const r = resolve(ctx, va);
  if (!r.target) return attachError(ctx, va, r.problem ?? 'unresolvable', { terminal: r.terminal ?? false });
  const { volumeId, instanceId, owner, pvName } = r.target;

  const vol = await ctx.ebs.describe(volumeId);
  if (!vol) return attachError(ctx, va, `EBS volume ${volumeId} does not exist`);
  const mine = vol.attachments.find((a) => a.instanceId === instanceId);
  if (mine?.state === 'attached') {
    ctx.reservations.release(instanceId, volumeId);
    const device = mine.device ?? '';
    await setStatus(ctx, va, { attached: true, attachmentMetadata: { [DEVICE_PATH_KEY]: device, [VOLUME_ID_KEY]: volumeId, [INSTANCE_ID_KEY]: instanceId }, attachError: null });
    const created = va.metadata?.creationTimestamp ? new Date(va.metadata.creationTimestamp).getTime() : undefined;
    if (created) volumeMetrics.attachSeconds.observe((Date.now() - created) / 1000);
    ctx.log.info({ va: name, volumeId, instanceId, device }, 'volume attached');
    ctx.enqueueAwsVolume(pvName);
    return;
  }
  if (mine) return { requeueAfter: POLL_MS }; // attaching (or detaching from a previous use): wait
  const elsewhere = vol.attachments.find((a) => a.state !== 'detached');
  if (elsewhere) return attachError(ctx, va, `EBS volume ${volumeId} is still attached to instance ${elsewhere.instanceId} (${elsewhere.state}); it attaches to one instance at a time`, { retryMs: 2000 });

  const inst = await ctx.ebs.instance(instanceId);
  if (!inst) return attachError(ctx, va, `instance ${instanceId} of node ${va.spec.nodeName} does not exist`);
  if (inst.availabilityZone && inst.availabilityZone !== vol.availabilityZone) {
    return attachError(ctx, va, `EBS volume ${volumeId} is in ${vol.availabilityZone} but node ${va.spec.nodeName} (instance ${instanceId}) is in ${inst.availabilityZone}; EBS cannot attach across zones`, { terminal: true });
  }
  const facts = await ctx.catalog.get(inst.instanceType);
  const visible = new Set(inst.devices);
  const pending = ctx.reservations.inFlight(instanceId).filter((d) => !visible.has(d) && d !== ctx.reservations.reservedFor(instanceId, volumeId));
  const cap = checkAttachCapacity(inst, facts, pending.length);
  if (!cap.ok) return attachError(ctx, va, cap.message, { retryMs: 10_000 });
  const device = ctx.reservations.reserve(instanceId, volumeId, inst.devices);
  if (!device) return attachError(ctx, va, `instance ${instanceId} has no free device name`, { retryMs: 10_000 });
  try {
    volumeMetrics.operations.inc({ operation: 'attach' });
    await ctx.ebs.attach(owner, volumeId, instanceId, device);
  } catch (err) {
    ctx.reservations.release(instanceId, volumeId);
    const c = classifyAwsError(err);
    if (c.kind === 'terminal') return attachError(ctx, va, `AttachVolume ${volumeId} to ${instanceId} as ${device}: ${c.code}: ${c.message}`, { retryMs: 10_000 });
    throw err;
  }
  return { requeueAfter: 200 };
}

async function detach(ctx: VolumeContext, va: VolumeAttachment): Promise<ReconcileResult> {
  if (!hasFinalizer(va, ATTACHER_FINALIZER)) return;
  const r = resolve(ctx, va);
  if (r.target) {
    const { volumeId, instanceId, owner, pvName } = r.target;
    const vol = await ctx.ebs.describe(volumeId);
    const att = vol?.attachments.find((a) => a.instanceId === instanceId);
    if (att && att.state !== 'detached') {
      if (att.state !== 'detaching') {
        try {
          volumeMetrics.operations.inc({ operation: 'detach' });
          await ctx.ebs.detach(owner, volumeId, instanceId);
        } catch (err) {
          const c = classifyAwsError(err);
          if (c.kind === 'terminal') return attachError(ctx, va, `DetachVolume ${volumeId} from ${instanceId}: ${c.code}: ${c.message}`, { detach: true, retryMs: 10_000 });
          throw err;
        }
      }
      return { requeueAfter: POLL_MS };
    }
    ctx.reservations.release(instanceId, volumeId);
    ctx.log.info({ va: va.metadata?.name, volumeId, instanceId }, 'volume detached');
    ctx.enqueueAwsVolume(pvName);
  }
  // Nothing we can find is attached (or the node and PV are both gone): let the VolumeAttachment go.
  await removeFinalizer(ctx.client, VA, va, ATTACHER_FINALIZER);
  return;
}
