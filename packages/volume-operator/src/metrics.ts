import { counter, gauge, histogram } from '@kube-iaas/core/metrics';

/** The volume-operator's own collectors (AWS calls, queues and reconciles come from core). */
export const volumeMetrics = {
  orphans: gauge({
    name: 'kube_iaas_volume_orphans',
    help: 'EBS volumes tagged as created for an AwsVolume of this cluster whose AwsVolume no longer exists (last scan)',
  }),
  orphansDeleted: counter({
    name: 'kube_iaas_volume_orphans_deleted_total',
    help: 'Orphaned EBS volumes deleted by the sweep (available and older than the grace period)',
  }),
  provisionSeconds: histogram({
    name: 'kube_iaas_volume_provision_seconds',
    help: 'From AwsVolume creation to its PersistentVolume written',
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
  }),
  attachSeconds: histogram({
    name: 'kube_iaas_volume_attach_seconds',
    help: 'From VolumeAttachment creation to status.attached=true',
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
  }),
  operations: counter({
    name: 'kube_iaas_volume_operations_total',
    help: 'Volume operations started, by kind (create, modify, delete, attach, detach, release)',
    labelNames: ['operation'] as const,
  }),
  invalid: counter({
    name: 'kube_iaas_volume_invalid_claims_total',
    help: 'ProvisioningFailed warnings for claims whose class or request is invalid',
  }),
};
