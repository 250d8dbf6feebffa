// What the simulated kubelet reads from the API server for a pod's CSI volumes.
import type { CoreV1Api, StorageV1Api, V1PersistentVolume, V1Pod } from '@kubernetes/client-node';
import { EBS_DRIVER } from './host-storage.ts';

export interface PodVolume {
  pv: V1PersistentVolume;
  pvName: string;
  volumeId: string;
  readOnly: boolean;
}

/** The pod's claims that are bound to volumes of the EBS driver, with their PVs. */
export async function podVolumes(core: CoreV1Api, pod: V1Pod): Promise<PodVolume[]> {
  const out: PodVolume[] = [];
  const namespace = pod.metadata!.namespace!;
  for (const v of pod.spec?.volumes ?? []) {
    const claim = v.persistentVolumeClaim?.claimName;
    if (!claim) continue;
    const pvc = await core.readNamespacedPersistentVolumeClaim({ name: claim, namespace }).catch(() => undefined);
    const pvName = pvc?.spec?.volumeName;
    if (!pvName) continue;
    const pv = await core.readPersistentVolume({ name: pvName }).catch(() => undefined);
    if (pv?.spec?.csi?.driver !== EBS_DRIVER) continue;
    out.push({ pv, pvName, volumeId: pv.spec.csi.volumeHandle, readOnly: !!v.persistentVolumeClaim?.readOnly });
  }
  return out;
}

/** What the attacher put in the VolumeAttachment's status for the volume (the device path): NodeStage's publish context. */
export async function publishContextOf(storage: StorageV1Api, pvName: string): Promise<Record<string, string>> {
  const attachments = await storage.listVolumeAttachment();
  const a = attachments.items.find((x) => x.spec.attacher === EBS_DRIVER && x.spec.source.persistentVolumeName === pvName && x.status?.attached && x.spec.nodeName);
  return a?.status?.attachmentMetadata ?? {};
}
