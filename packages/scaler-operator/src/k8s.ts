// The parts of Pod, Node, DaemonSet, PV and PVC objects the scaler reads, as plain JSON (what the
// informers cache). Loose on purpose: everything optional, as the API server may omit it.

export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';

export interface Taint {
  key: string;
  value?: string | undefined;
  effect: TaintEffect;
}

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: TaintEffect | '';
  tolerationSeconds?: number;
}

export interface NodeSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';
  values?: string[];
}

export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

export interface NodeSelector {
  nodeSelectorTerms: NodeSelectorTerm[];
}

export interface ResourceRequirements {
  requests?: Record<string, string | number>;
  limits?: Record<string, string | number>;
}

export interface Container {
  name?: string;
  resources?: ResourceRequirements;
  restartPolicy?: string;
}

export interface Volume {
  name?: string;
  persistentVolumeClaim?: { claimName: string };
  emptyDir?: { medium?: string; sizeLimit?: string };
  hostPath?: { path: string };
}

export interface PodSpec {
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: NodeSelector } };
  tolerations?: Toleration[];
  containers?: Container[];
  initContainers?: Container[];
  overhead?: Record<string, string | number>;
  volumes?: Volume[];
  priority?: number;
  schedulerName?: string;
}

export interface Meta {
  name?: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  creationTimestamp?: string;
  deletionTimestamp?: string;
  resourceVersion?: string;
  generation?: number;
}

export interface PodCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface Pod {
  apiVersion?: string;
  kind?: string;
  metadata?: Meta;
  spec?: PodSpec;
  status?: { phase?: string; conditions?: PodCondition[]; nominatedNodeName?: string };
}

export interface Node {
  apiVersion?: string;
  kind?: string;
  metadata?: Meta;
  spec?: { providerID?: string; unschedulable?: boolean; taints?: Taint[] };
  status?: {
    allocatable?: Record<string, string>;
    capacity?: Record<string, string>;
    conditions?: { type: string; status: string }[];
  };
}

export interface DaemonSet {
  apiVersion?: string;
  kind?: string;
  metadata?: Meta;
  spec?: { template?: { metadata?: Meta; spec?: PodSpec } };
}

export interface PersistentVolumeClaim {
  metadata?: Meta;
  spec?: { volumeName?: string };
}

export interface PersistentVolume {
  metadata?: Meta;
  spec?: { nodeAffinity?: { required?: NodeSelector }; awsElasticBlockStore?: unknown };
}

export interface PodDisruptionBudget {
  metadata?: Meta;
  status?: { disruptionsAllowed?: number };
}
