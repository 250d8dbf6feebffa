// The NetworkLoadBalancer's model: the shared ELBv2 model (packages/elbv2) with what this operator's
// status needs beside it. The actual state, the actions and the plan are the shared ones.
import type { HealthCheck, ListenerModel, Model, TargetGroupModel } from '@kube-iaas/elbv2';

export type { Action, ActualState, ActualLoadBalancer, ActualNodeRule, ActualSecurityGroup, ActualTargetGroup, ActualListener, GroupRule, NodeRule, Plan } from '@kube-iaas/elbv2';

export type ListenerProtocol = 'TCP' | 'UDP' | 'TCP_UDP' | 'TLS';

export interface HealthCheckSettings extends HealthCheck {
  protocol: 'TCP' | 'HTTP' | 'HTTPS';
}

export interface DesiredTargetGroup extends TargetGroupModel {
  listenerPort: number;
  protocol: ListenerProtocol;
  healthCheck: HealthCheckSettings;
}

export interface DesiredListener extends ListenerModel {
  protocol: ListenerProtocol;
}

export interface DesiredState extends Model {
  targetGroups: DesiredTargetGroup[];
  listeners: DesiredListener[];
}

/** An ingress rule of a node security group for an NLB without security groups: clients to a NodePort. */
export interface RuleSpec {
  groupId: string;
  protocol: 'tcp' | 'udp';
  port: number;
  cidr: string;
}
