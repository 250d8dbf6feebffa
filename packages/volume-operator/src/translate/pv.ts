// AwsVolume (+ its claim and class) → the PersistentVolume the PV controller binds. Pure.
import type { AwsVolume } from '@kube-iaas/crds';
import { DRIVER_NAME, PROVISIONED_BY_ANNOTATION, ZONE_LABEL } from '../constants.ts';
import { gibQuantity } from './quantity.ts';
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from './types.ts';

/**
 * The PV for a provisioned volume: CSI source of driver ebs.kube-iaas.dev with the volume ID as
 * volumeHandle (the node plugin finds the device by it: the NVMe serial is the ID without the dash)
 * and the fsType, required node affinity on the volume's zone (EBS cannot attach across zones, so the
 * scheduler keeps pods there), claimRef pre-bound to the claim by UID, the reclaim policy of the
 * AwsVolume. Access modes, volume mode and class come from the claim; mount options from the class.
 */
export function buildPersistentVolume(
  av: AwsVolume,
  volume: { volumeId: string; availabilityZone: string; sizeGiB: number },
  claim?: PersistentVolumeClaim,
  sc?: StorageClass,
): PersistentVolume {
  const name = av.metadata.name ?? '';
  const spec: NonNullable<PersistentVolume['spec']> = {
    capacity: { storage: gibQuantity(volume.sizeGiB) },
    accessModes: claim?.spec?.accessModes?.length ? [...claim.spec.accessModes] : ['ReadWriteOnce'],
    persistentVolumeReclaimPolicy: av.spec.reclaimPolicy ?? 'Delete',
    volumeMode: claim?.spec?.volumeMode ?? 'Filesystem',
    csi: {
      driver: DRIVER_NAME,
      volumeHandle: volume.volumeId,
      fsType: av.spec.fsType ?? 'ext4',
      volumeAttributes: { 'storage.kube-iaas.dev/volume-id': volume.volumeId },
    },
    nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: ZONE_LABEL, operator: 'In', values: [volume.availabilityZone] }] }] } },
  };
  const scName = claim?.spec?.storageClassName;
  if (scName) spec.storageClassName = scName;
  if (sc?.mountOptions?.length) spec.mountOptions = [...sc.mountOptions];
  if (av.spec.claimRef) {
    spec.claimRef = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      namespace: av.spec.claimRef.namespace,
      name: av.spec.claimRef.name,
      ...(av.spec.claimRef.uid ? { uid: av.spec.claimRef.uid } : {}),
    };
  }
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, annotations: { [PROVISIONED_BY_ANNOTATION]: DRIVER_NAME } },
    spec,
  };
}

/** A Node's instance and zone: core's one providerID parser, re-exported for this package's callers. */
export { parseProviderId } from '@kube-iaas/core';
