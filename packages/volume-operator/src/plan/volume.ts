// Desired (AwsVolume spec) versus actual (the EBS volume): what to change, as few calls as possible. Pure.
import type { AwsVolumeSpec } from '@kube-iaas/crds';
import type { Volume } from '@kube-iaas/core/aws';
import { GP3_BASELINE_IOPS } from '../translate/parameters.ts';

export interface VolumeModification {
  Size?: number;
  VolumeType?: string;
  Iops?: number;
  Throughput?: number;
}

export interface VolumeDiff {
  /** One ModifyVolume with these fields, when anything differs. */
  modify?: VolumeModification;
  /** Things that cannot be changed in place; reported, never acted on. */
  immutable: string[];
  /** The spec asks for less than the volume has: EBS does not shrink; reported. */
  shrink?: { from: number; to: number };
}

/**
 * Compares a volume with its spec. Size only grows; type, IOPS and throughput are modified in place
 * (all in one ModifyVolume). A gp3 spec without iops means the 3000 baseline; without throughput, 125.
 * Zone and encryption are immutable: a mismatch is reported, not "fixed".
 */
export function diffVolume(spec: AwsVolumeSpec, actual: Volume): VolumeDiff {
  const out: VolumeDiff = { immutable: [] };
  const mod: VolumeModification = {};
  if (spec.sizeGiB > actual.sizeGiB) mod.Size = spec.sizeGiB;
  else if (spec.sizeGiB < actual.sizeGiB) out.shrink = { from: actual.sizeGiB, to: spec.sizeGiB };
  const type = spec.volumeType ?? 'gp3';
  if (type !== actual.volumeType) mod.VolumeType = type;
  const wantIops = spec.iops ?? (type === 'gp3' ? GP3_BASELINE_IOPS : undefined);
  if (wantIops !== undefined && (type === 'gp3' || type === 'io1' || type === 'io2') && wantIops !== actual.iops) mod.Iops = wantIops;
  if (type === 'gp3' && spec.throughput !== undefined && spec.throughput !== (actual.throughput ?? 125)) mod.Throughput = spec.throughput;
  if (spec.availabilityZone && spec.availabilityZone !== actual.availabilityZone) out.immutable.push(`availabilityZone ${actual.availabilityZone} (spec ${spec.availabilityZone})`);
  if ((spec.encrypted ?? false) !== actual.encrypted) out.immutable.push(`encrypted ${actual.encrypted} (spec ${spec.encrypted ?? false})`);
  if (Object.keys(mod).length) out.modify = mod;
  return out;
}
