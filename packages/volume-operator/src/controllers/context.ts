import type { EventRecorder, Informer, KubeClient, StatusWriter } from '@kube-iaas/core/runtime';
import type { Logger } from '@kube-iaas/core/log';
import type { AwsVolume } from '@kube-iaas/crds';
import type { InstanceTypeCatalog } from '@kube-iaas/core/instance-types';
import type { Ebs } from '../aws/ebs.ts';
import type { DeviceReservations } from '../plan/devices.ts';
import type { Node, PersistentVolume, PersistentVolumeClaim, StorageClass, VolumeAttachment } from '../translate/types.ts';

/** What the controllers of one operator process share. */
export interface VolumeContext {
  client: KubeClient;
  events: EventRecorder;
  status: StatusWriter;
  log: Logger;
  ebs: Ebs;
  catalog: InstanceTypeCatalog;
  reservations: DeviceReservations;
  informers: {
    classes: Informer<StorageClass>;
    claims: Informer<PersistentVolumeClaim>;
    volumes: Informer<PersistentVolume>;
    nodes: Informer<Node>;
    attachments: Informer<VolumeAttachment>;
    awsVolumes: Informer<AwsVolume>;
  };
  /** Wake another controller: an AwsVolume's status, or a claim. */
  enqueueAwsVolume(name: string): void;
  enqueueClaim(key: string): void;
}
