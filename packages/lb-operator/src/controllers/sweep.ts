// The orphan sweep: NLBs, target groups, security groups and node rules made for a NetworkLoadBalancer
// of this cluster whose CR no longer exists — or exists with another UID — are removed by the ELBv2
// layer's sweep, each suspect confirmed with a live GET first.
import type { NetworkLoadBalancer } from '@kube-iaas/crds';
import { counter } from '@kube-iaas/core/metrics';
import { type AwsClients } from '@kube-iaas/core/aws';
import { type EventRecorder, type Informer, type KubeClient } from '@kube-iaas/core/runtime';
import { sweepReconciler as elbSweep } from '@kube-iaas/elbv2';
import { NLB_RESOURCE } from '../constants.ts';
import type { AwsEnvironment } from '../aws/environment.ts';
import type { Inventory } from '../aws/inventory.ts';

export const SWEEP_KEY = 'orphan-sweep';

const collected = counter({ name: 'kube_iaas_lb_orphans_collected_total', help: 'AWS resources of deleted NetworkLoadBalancers removed by the orphan sweep', labelNames: ['kind'] as const });

export interface SweepDeps {
  client: KubeClient;
  clients: AwsClients;
  env: AwsEnvironment;
  inventory: Inventory;
  nlbs: Informer<NetworkLoadBalancer>;
  events: EventRecorder;
  intervalMs: number;
}

export function sweepReconciler(deps: SweepDeps) {
  const { env, nlbs, ...rest } = deps;
  // Rules on the node groups of an NLB without security groups name their owner only in their description.
  return elbSweep({ ...rest, resource: NLB_RESOURCE, informer: nlbs, nodeGroups: () => env.allClusterSecurityGroups(), collected, scanNodeRules: true });
}
