import { awsFlags, flag, parseDuration } from '@kube-iaas/core/runtime';
import { EXPANDERS } from './plan/expander.ts';
import { parseQuantity } from './quantity.ts';

const quantity = (v: string): string | undefined => {
  try {
    parseQuantity(v);
    return undefined;
  } catch {
    return 'must be a quantity such as 100m, 512Mi or 2Gi';
  }
};

/** The scaler-operator's flags (each also from the environment variable in UPPER_SNAKE case). */
export const scalerFlags = {
  ...awsFlags,
  'node-group-auto-discovery': flag.bool({
    description: 'Create a NodeGroup for every ASG tagged k8s.io/cluster-autoscaler/enabled and k8s.io/cluster-autoscaler/<cluster>.',
    default: true,
  }),
  expander: flag.string({ description: 'How to choose among groups that could help.', default: 'least-waste', choices: EXPANDERS }),
  'max-nodes-total': flag.int({ description: 'Cluster-wide cap on nodes (registered + upcoming); 0 for none.', default: 0, min: 0 }),
  'scan-interval': flag.duration({ description: 'How often the scaler re-evaluates everything without a trigger.', default: 10_000, min: 100 }),
  'batch-idle': flag.duration({ description: 'A batch of unschedulable pods closes after this long without a new one.', default: 1_000, min: 0 }),
  'batch-max': flag.duration({ description: 'A batch of unschedulable pods closes after this long at most.', default: 10_000, min: 0 }),
  'reserved-cpu': flag.string({ description: 'CPU the kubelets keep back (kube-reserved + system-reserved), subtracted from a new node’s capacity.', default: '100m', validate: quantity }),
  'reserved-memory': flag.string({ description: 'Memory the kubelets keep back (reservations + eviction threshold).', default: '512Mi', validate: quantity }),
  'reserved-ephemeral-storage': flag.string({ description: 'Ephemeral storage the kubelets keep back.', default: '2Gi', validate: quantity }),
  'node-ephemeral-storage': flag.string({ description: 'Ephemeral storage of a new node when its launch template sets no root volume size.', default: '20Gi', validate: quantity }),
  'provision-timeout': flag.duration({ description: 'How long requested nodes may take to join before the group backs off (spec.scaleUp.provisionTimeoutSeconds wins).', default: 900_000, min: 1_000 }),
  'scale-up-backoff': flag.duration({ description: 'First backoff of a group after a failed scale-up; doubles on each failure.', default: 300_000, min: 100 }),
  'scale-up-backoff-max': flag.duration({ description: 'Longest backoff of a group.', default: 1_800_000, min: 100 }),
  'scale-down-enabled': flag.bool({ description: 'Remove nodes that stay underused.', default: true }),
  'scale-down-utilization-threshold': flag.number({ description: 'Default spec.scaleDown.utilizationThreshold.', default: 0.5, min: 0, max: 1 }),
  'scale-down-unneeded-time': flag.duration({ description: 'Default spec.scaleDown.unneededSeconds: how long a node must stay underused.', default: 600_000, min: 0 }),
  'scale-down-delay-after-add': flag.duration({ description: 'No scale-down this long after any scale-up.', default: 600_000, min: 0 }),
  'max-empty-bulk-delete': flag.int({ description: 'Empty nodes removed at once.', default: 10, min: 1 }),
  'max-graceful-termination': flag.duration({ description: 'How long a drain may wait for evictions (PDBs) before giving up on the node.', default: 600_000, min: 1_000 }),
  'eviction-retry': flag.duration({ description: 'Delay between eviction attempts a PodDisruptionBudget refused.', default: 5_000, min: 100 }),
  'install-crds': flag.bool({ description: 'Apply the NodeGroup CRD at start (needs RBAC on customresourcedefinitions); off when manifests install it.', default: true }),
} as const;

export { parseDuration };
