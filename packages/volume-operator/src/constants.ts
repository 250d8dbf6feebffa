// Names the volume-operator shares with Kubernetes and with the EBS CSI driver's manifests.
import { AWS_VOLUME } from '@kube-iaas/crds';
import type { ResourceType } from '@kube-iaas/core/runtime';

/** The CSI driver name: StorageClass `provisioner`, PV `csi.driver`, VolumeAttachment `attacher`. */
export const DRIVER_NAME = 'ebs.kube-iaas.dev';

export const OPERATOR_NAME = 'volume-operator';

/** The AwsVolume kind as the runtime addresses it. */
export const AWS_VOLUME_TYPE: ResourceType = {
  apiVersion: AWS_VOLUME.apiVersion,
  kind: AWS_VOLUME.kind,
  plural: AWS_VOLUME.plural,
  namespaced: false,
};

export const CSI_DRIVER_TYPE: ResourceType = { apiVersion: 'storage.k8s.io/v1', kind: 'CSIDriver', plural: 'csidrivers', namespaced: false };

/** Finalizer on AwsVolumes: the EBS volume is deleted (or handed over) before the object goes. */
export const AWS_VOLUME_FINALIZER = AWS_VOLUME.finalizer;

/**
 * Finalizer on VolumeAttachments, spelled as the CSI external-attacher spells it for this driver
 * (`external-attacher/<driver with . and / as ->`), so a switch to the real sidecar finds it.
 */
export const ATTACHER_FINALIZER = `external-attacher/${DRIVER_NAME.replace(/[./]/g, '-')}`;

/** Scheduler annotation on a WaitForFirstConsumer claim: the node picked for its first pod. */
export const SELECTED_NODE_ANNOTATION = 'volume.kubernetes.io/selected-node';
/** PV controller annotations naming the external provisioner of a claim. */
export const STORAGE_PROVISIONER_ANNOTATION = 'volume.kubernetes.io/storage-provisioner';
export const BETA_STORAGE_PROVISIONER_ANNOTATION = 'volume.beta.kubernetes.io/storage-provisioner';
/** On PVs we create, as the external-provisioner writes it. */
export const PROVISIONED_BY_ANNOTATION = 'pv.kubernetes.io/provisioned-by';

/** Topology keys: the well-known zone label (what the PV's node affinity uses) and older aliases. */
export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const ZONE_LABELS = [ZONE_LABEL, 'failure-domain.beta.kubernetes.io/zone', 'topology.ebs.csi.aws.com/zone'] as const;

/** Labels on AwsVolumes made from claims, for `kubectl get awsvol -l ...`. */
export const CLAIM_NAMESPACE_LABEL = 'storage.kube-iaas.dev/claim-namespace';
export const CLAIM_NAME_LABEL = 'storage.kube-iaas.dev/claim-name';

/** Published in VolumeAttachment status.attachmentMetadata for the node plugin. */
export const DEVICE_PATH_KEY = 'devicePath';
export const VOLUME_ID_KEY = 'volumeId';
