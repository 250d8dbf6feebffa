/** Well-known Kubernetes labels, annotations and names the scaler reads or sets (not AWS tags: those live in core). */
export const LABEL_ZONE = 'topology.kubernetes.io/zone';
export const LABEL_REGION = 'topology.kubernetes.io/region';
export const LABEL_ZONE_BETA = 'failure-domain.beta.kubernetes.io/zone';
export const LABEL_REGION_BETA = 'failure-domain.beta.kubernetes.io/region';
export const LABEL_INSTANCE_TYPE = 'node.kubernetes.io/instance-type';
export const LABEL_INSTANCE_TYPE_BETA = 'beta.kubernetes.io/instance-type';
export const LABEL_OS = 'kubernetes.io/os';
export const LABEL_ARCH = 'kubernetes.io/arch';
export const LABEL_HOSTNAME = 'kubernetes.io/hostname';

/** Zone label keys: on a template node of a multi-AZ group their value is one of several. */
export const ZONE_LABELS: ReadonlySet<string> = new Set([LABEL_ZONE, LABEL_ZONE_BETA]);

/** The cluster autoscaler's annotations, kept so workloads need no change. */
export const SAFE_TO_EVICT_ANNOTATION = 'cluster-autoscaler.kubernetes.io/safe-to-evict';
export const SCALE_DOWN_DISABLED_ANNOTATION = 'cluster-autoscaler.kubernetes.io/scale-down-disabled';
export const SAFE_TO_EVICT_LOCAL_VOLUMES_ANNOTATION = 'cluster-autoscaler.kubernetes.io/safe-to-evict-local-volumes';

/** The taint the scaler puts on a node it is draining (the cluster autoscaler's key). */
export const TO_BE_DELETED_TAINT = 'ToBeDeletedByClusterAutoscaler';

/** Labels on NodeGroups the operator created from ASG discovery tags. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'kube-iaas-scaler-operator';
export const DISCOVERED_ANNOTATION = 'autoscaling.kube-iaas.dev/discovered';
/** On a NodeGroup whose ASG limits the operator changed: what they were and what it set (see `plan/limits.ts`). */
export const ASG_LIMITS_ANNOTATION = 'autoscaling.kube-iaas.dev/asg-limits';
/** Keeps a NodeGroup until the ASG limits it changed are put back. */
export const FINALIZER = 'autoscaling.kube-iaas.dev/finalizer';

export const OPERATOR_NAME = 'scaler-operator';

/** Event reasons (the cluster autoscaler's, where it has one). */
export const Reasons = {
  TriggeredScaleUp: 'TriggeredScaleUp',
  NotTriggerScaleUp: 'NotTriggerScaleUp',
  ScaleUpFailed: 'FailedToScaleUpGroup',
  ScaledUpGroup: 'ScaledUpGroup',
  ScaleDown: 'ScaleDown',
  ScaleDownEmpty: 'ScaleDownEmpty',
  ScaleDownFailed: 'ScaleDownFailed',
  InvalidNodeGroup: 'InvalidNodeGroup',
  Backoff: 'ScaleUpBackoff',
  AsgLimitsUpdated: 'UpdatedAsgLimits',
  AsgLimitsFailed: 'FailedToUpdateAsgLimits',
  AsgLimitsRestored: 'RestoredAsgLimits',
  AsgLimitsKept: 'AsgLimitsNotRestored',
  Conflict: 'NodeGroupConflict',
} as const;

/** Taints that a joining node has only for a moment (see `isStartupTaint`). */
export const STARTUP_TAINTS: ReadonlySet<string> = new Set([
  'node.kubernetes.io/not-ready',
  'node.cloudprovider.kubernetes.io/uninitialized',
  'node.kubernetes.io/network-unavailable',
]);
/** The cluster autoscaler's prefixes for taints a node sheds once its agents run. */
export const STARTUP_TAINT_PREFIXES: readonly string[] = ['startup-taint.cluster-autoscaler.kubernetes.io/', 'ignore-taint.cluster-autoscaler.kubernetes.io/'];
