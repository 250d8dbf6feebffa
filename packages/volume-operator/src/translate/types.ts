// The native Kubernetes objects the volume-operator reads and writes: client-node's types, under the
// names this package uses. Timestamps typed `Date` there are RFC 3339 strings at run time (the
// informers hold the API server's JSON).
export type {
  V1Node as Node,
  V1PersistentVolume as PersistentVolume,
  V1PersistentVolumeClaim as PersistentVolumeClaim,
  V1StorageClass as StorageClass,
  V1TopologySelectorTerm as TopologySelectorTerm,
  V1VolumeAttachment as VolumeAttachment,
} from '@kubernetes/client-node';
