import type { CoreV1Api, StorageV1Api, V1Pod } from '@kubernetes/client-node';

/** kubelet does not start a pod until each CSI volume is attached to its node: why it waits, or undefined. */
export async function volumesNotReady(core: CoreV1Api, storage: StorageV1Api, pod: V1Pod, nodeName: string): Promise<string | undefined> {
  for (const v of pod.spec?.volumes ?? []) {
    const claim = v.persistentVolumeClaim?.claimName;
    if (!claim) continue;
    const pvc = await core.readNamespacedPersistentVolumeClaim({ name: claim, namespace: pod.metadata!.namespace! }).catch(() => undefined);
    const pvName = pvc?.spec?.volumeName;
    if (!pvName) return `waiting for claim ${claim} to be bound`;
    const pv = await core.readPersistentVolume({ name: pvName });
    const driver = pv.spec?.csi?.driver;
    if (!driver) continue;
    const csiDriver = await storage.readCSIDriver({ name: driver }).catch(() => undefined);
    if (csiDriver?.spec?.attachRequired === false) continue;
    const attachments = await storage.listVolumeAttachment();
    const attached = attachments.items.some(
      (a) => a.spec.attacher === driver && a.spec.nodeName === nodeName && a.spec.source.persistentVolumeName === pvName && a.status?.attached,
    );
    if (!attached) return `waiting for volume ${pvName} to be attached to ${nodeName}`;
  }
  return undefined;
}
