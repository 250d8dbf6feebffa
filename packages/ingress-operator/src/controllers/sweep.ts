// The orphan sweep: ALBs, target groups and security groups made for an ApplicationLoadBalancer of this
// cluster whose CR no longer exists — or exists with another UID — are removed with the rules their
// security group holds on the node groups, by the ELBv2 layer's sweep (each suspect confirmed with a
// live GET first).
import type { ApplicationLoadBalancer } from '@kube-iaas/crds';
import { counter } from '@kube-iaas/core/metrics';
import { type AwsClients, type AwsEnvironment } from '@kube-iaas/core/aws';
import { type EventRecorder, type Informer, type KubeClient } from '@kube-iaas/core/runtime';
import { sweepReconciler as elbSweep } from '@kube-iaas/elbv2';
import type { Inventory } from '../aws/index.ts';
import { ALB_RESOURCE } from './common.ts';

export const SWEEP_KEY = 'orphan-sweep';

const collected = counter({ name: 'kube_iaas_ingress_orphans_collected_total', help: 'AWS resources of deleted ApplicationLoadBalancers removed by the orphan sweep', labelNames: ['kind'] as const });

export interface SweepDeps {
  client: KubeClient;
  clients: AwsClients;
  env: AwsEnvironment;
  inventory: Inventory;
  albs: Informer<ApplicationLoadBalancer>;
  events: EventRecorder;
  intervalMs: number;
}

export function sweepReconciler(deps: SweepDeps) {
  const { env, albs, ...rest } = deps;
  return elbSweep({ ...rest, resource: ALB_RESOURCE, informer: albs, nodeGroups: () => env.allClusterSecurityGroups(), collected, groupSourcedNodeRules: true });
}
