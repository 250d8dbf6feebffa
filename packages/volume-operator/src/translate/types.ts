// The slices of native Kubernetes objects the volume-operator reads and writes, as plain JSON (the
// shape the runtime's informers hold). Loose on purpose: only what is used is typed.
import type { KubeObject } from '@kube-iaas/core';

export interface TopologySelectorTerm {
  matchLabelExpressions?: { key: string; values?: string[] }[];
}

export interface StorageClass extends KubeObject {
  provisioner?: string;
  parameters?: Record<string, string>;
  reclaimPolicy?: string;
  volumeBindingMode?: string;
  allowVolumeExpansion?: boolean;
  allowedTopologies?: TopologySelectorTerm[];
  mountOptions?: string[];
}

export interface PersistentVolumeClaim extends KubeObject {
  spec?: {
    accessModes?: string[];
    storageClassName?: string | null;
    volumeName?: string;
    volumeMode?: string;
    resources?: { requests?: Record<string, string> };
    dataSource?: unknown;
    dataSourceRef?: unknown;
  };
  status?: {
    phase?: string;
    capacity?: Record<string, string>;
    allocatedResources?: Record<string, string>;
    conditions?: { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string; lastProbeTime?: string | null }[];
  };
}

export interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface PersistentVolume extends KubeObject {
  spec?: {
    capacity?: Record<string, string>;
    accessModes?: string[];
    persistentVolumeReclaimPolicy?: string;
    storageClassName?: string;
    volumeMode?: string;
    mountOptions?: string[];
    claimRef?: { apiVersion?: string; kind?: string; namespace?: string; name?: string; uid?: string; resourceVersion?: string };
    csi?: { driver: string; volumeHandle: string; fsType?: string; volumeAttributes?: Record<string, string> };
    nodeAffinity?: { required?: { nodeSelectorTerms: { matchExpressions?: NodeSelectorRequirement[] }[] } };
  };
  status?: { phase?: string; message?: string; reason?: string };
}

export interface Node extends KubeObject {
  spec?: { providerID?: string };
}

export interface VolumeAttachment extends KubeObject {
  spec: {
    attacher: string;
    nodeName: string;
    source: { persistentVolumeName?: string; inlineVolumeSpec?: unknown };
  };
  status?: {
    attached: boolean;
    attachmentMetadata?: Record<string, string>;
    attachError?: { time?: string; message?: string; errorCode?: number };
    detachError?: { time?: string; message?: string; errorCode?: number };
  };
}
