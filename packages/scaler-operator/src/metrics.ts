import { counter, gauge, histogram } from '@kube-iaas/core/metrics';

/** The scaler's Prometheus collectors (names follow the cluster autoscaler's where it has one). */
export const scalerMetrics = {
  unschedulablePods: gauge({ name: 'kube_iaas_scaler_unschedulable_pods', help: 'Pods the scheduler marked unschedulable, at the last run' }),
  scaleUps: counter({ name: 'kube_iaas_scaler_scale_ups_total', help: 'SetDesiredCapacity calls that raised a group', labelNames: ['group'] as const }),
  nodesRequested: counter({ name: 'kube_iaas_scaler_nodes_requested_total', help: 'Nodes asked for by scale-ups', labelNames: ['group'] as const }),
  scaleUpFailures: counter({ name: 'kube_iaas_scaler_failed_scale_ups_total', help: 'Scale-ups that failed or timed out', labelNames: ['group', 'reason'] as const }),
  scaleDowns: counter({ name: 'kube_iaas_scaler_scaled_down_nodes_total', help: 'Nodes removed', labelNames: ['group', 'reason'] as const }),
  evictions: counter({ name: 'kube_iaas_scaler_evictions_total', help: 'Eviction API calls', labelNames: ['outcome'] as const }),
  planSeconds: histogram({
    name: 'kube_iaas_scaler_plan_duration_seconds',
    help: 'Time the scale-up planner took',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  }),
  runSeconds: histogram({ name: 'kube_iaas_scaler_run_duration_seconds', help: 'One scaler run', buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] }),
  groupSize: gauge({ name: 'kube_iaas_scaler_node_group_size', help: 'Desired, current, ready and upcoming nodes per group', labelNames: ['group', 'state'] as const }),
  groupBackoff: gauge({ name: 'kube_iaas_scaler_node_group_backoff', help: '1 while a group is backing off', labelNames: ['group'] as const }),
  unneededNodes: gauge({ name: 'kube_iaas_scaler_unneeded_nodes', help: 'Nodes under the utilization threshold' }),
};
