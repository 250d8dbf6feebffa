// Attachment limits per instance. Pure; the instance-type facts come from core.
import { ebsVolumeSlots, type InstanceTypeFacts } from '@kube-iaas/core/instance-types';
import { canonicalDevice } from './devices.ts';

export interface InstanceAttachments {
  instanceId: string;
  instanceType: string;
  /** Device names mapped now (root included). */
  devices: string[];
  /** The root device (`/dev/xvda`, `/dev/sda1`), not counted as a data volume. */
  rootDevice?: string;
  /** Network interfaces attached now (they share the slots on Nitro types). */
  attachedEnis: number;
}

/** EBS data volumes the instance can hold at most, given its ENIs now (the CSINode allocatable count). */
export function volumeSlots(facts: Pick<InstanceTypeFacts, 'ebs' | 'instanceStoreVolumes'>, attachedEnis: number): number {
  return ebsVolumeSlots(facts, { attachedEnis: Math.max(1, attachedEnis) });
}

/** Data volumes attached now: every mapping except the root device. */
export function attachedDataVolumes(i: Pick<InstanceAttachments, 'devices' | 'rootDevice'>): number {
  const root = i.rootDevice ? canonicalDevice(i.rootDevice) : undefined;
  return i.devices.filter((d) => canonicalDevice(d) !== root).length;
}

export type CapacityCheck = { ok: true; free: number } | { ok: false; message: string };

/**
 * May one more volume be attached? Counts what is attached plus attaches in flight against the slots
 * the type leaves for data volumes (Nitro types share 28 slots with ENIs and NVMe instance store).
 */
export function checkAttachCapacity(i: InstanceAttachments, facts: Pick<InstanceTypeFacts, 'ebs' | 'instanceStoreVolumes'>, inFlight: number): CapacityCheck {
  const slots = volumeSlots(facts, i.attachedEnis);
  const used = attachedDataVolumes(i) + inFlight;
  if (used >= slots) {
    const shared = facts.ebs.attachmentLimitType === 'shared' ? ` (${facts.ebs.maxAttachments} slots shared with ${i.attachedEnis} network interface(s) and the root volume)` : '';
    return { ok: false, message: `instance ${i.instanceId} (${i.instanceType}) has no free EBS attachment slot: ${used} of ${slots} data volumes attached or attaching${shared}` };
  }
  return { ok: true, free: slots - used };
}
