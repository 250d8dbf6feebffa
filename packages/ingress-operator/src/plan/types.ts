// The ApplicationLoadBalancer's model: the shared ELBv2 model (packages/elbv2) with what this operator's
// status needs beside it. The actual state, the actions and the plan are the shared ones.
import type { ActionModel, HealthCheck, ListenerModel, Model, RuleModel, TargetGroupModel } from '@kube-iaas/elbv2';

export type { Action, ActualState, ActualLoadBalancer, ActualNodeRule, ActualSecurityGroup, ActualTargetGroup, ActualListener, ActualRule, GroupRule, NodeRule, Plan } from '@kube-iaas/elbv2';

/** Stands for the ID of the security group the plan creates, until it exists. */
export { OWN_GROUP as MANAGED_SG } from '@kube-iaas/elbv2';

export interface HealthCheckSettings extends HealthCheck {
  protocol: 'HTTP' | 'HTTPS';
  path: string;
  successCodes: string;
}

/** A listener or rule action, with target groups by their AWS names. */
export type RuleAction = ActionModel;

export interface DesiredTargetGroup extends TargetGroupModel {
  /** Name of the spec entry. */
  key: string;
  protocol: 'HTTP' | 'HTTPS';
  healthCheck: HealthCheckSettings;
}

export interface DesiredListener extends ListenerModel {
  protocol: 'HTTP' | 'HTTPS';
}

export type DesiredRule = RuleModel;

export interface DesiredState extends Model {
  targetGroups: DesiredTargetGroup[];
  listeners: DesiredListener[];
}
