import { Counter, Gauge, Histogram } from 'prom-client';
import { metricsRegistry } from '@kube-iaas/core';

const registers = [metricsRegistry];

/** The scaler's Prometheus collectors (names follow the cluster autoscaler's where it has one). */
export const scalerMetrics = {
  unschedulablePods: new Gauge({ name: 'kube_iaas_scaler_unschedulable_pods', help: 'Pods the scheduler marked unschedulable, at the last run', registers }),
  scaleUps: new Counter({ name: 'kube_iaas_scaler_scale_ups_total', help: 'SetDesiredCapacity calls that raised a group', labelNames: ['group'] as const, registers }),
  nodesRequested: new Counter({ name: 'kube_iaas_scaler_nodes_requested_total', help: 'Nodes asked for by scale-ups', labelNames: ['group'] as const, registers }),
  scaleUpFailures: new Counter({ name: 'kube_iaas_scaler_failed_scale_ups_total', help: 'Scale-ups that failed or timed out', labelNames: ['group', 'reason'] as const, registers }),
  scaleDowns: new Counter({ name: 'kube_iaas_scaler_scaled_down_nodes_total', help: 'Nodes removed', labelNames: ['group', 'reason'] as const, registers }),
  evictions: new Counter({ name: 'kube_iaas_scaler_evictions_total', help: 'Eviction API calls', labelNames: ['outcome'] as const, registers }),
  planSeconds: new Histogram({
    name: 'kube_iaas_scaler_plan_duration_seconds',
    help: 'Time the scale-up planner took',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  }),
  runSeconds: new Histogram({ name: 'kube_iaas_scaler_run_duration_seconds', help: 'One scaler run', buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers }),
  groupSize: new Gauge({ name: 'kube_iaas_scaler_node_group_size', help: 'Desired, current, ready and upcoming nodes per group', labelNames: ['group', 'state'] as const, registers }),
  groupBackoff: new Gauge({ name: 'kube_iaas_scaler_node_group_backoff', help: '1 while a group is backing off', labelNames: ['group'] as const, registers }),
  unneededNodes: new Gauge({ name: 'kube_iaas_scaler_unneeded_nodes', help: 'Nodes under the utilization threshold', registers }),
};
