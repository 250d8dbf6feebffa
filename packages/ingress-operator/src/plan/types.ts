// The shapes the planner works on: the desired AWS state of one ApplicationLoadBalancer, the actual state
// read from AWS (only what carries this CR's owner tags, plus our rules on the node security groups), and
// the actions that close the gap.
import type { Tags } from '@kube-iaas/core';

export interface HealthCheckSettings {
  protocol: 'HTTP' | 'HTTPS';
  /** `traffic-port` or a port number as a string, as ELBv2 reports it. */
  port: string;
  path: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  successCodes: string;
}

/** A listener or rule action, with target groups by their AWS names. */
export type RuleAction =
  | { type: 'forward'; targetGroups: Array<{ name: string; weight: number }> }
  | { type: 'fixed-response'; statusCode: string; contentType?: string; messageBody?: string }
  | { type: 'redirect'; statusCode: 'HTTP_301' | 'HTTP_302'; protocol?: string; port?: string; host?: string; path?: string; query?: string };

export interface DesiredLoadBalancer {
  name: string;
  scheme: 'internet-facing' | 'internal';
  ipAddressType: string;
  subnetIds: string[];
  /** Security groups by ID; the managed one is `MANAGED_SG` until it exists. */
  securityGroups: string[];
  tags: Tags;
  /** Only the attributes the spec sets; others are left as they are. */
  attributes: Record<string, string>;
}

/** Stands for the ID of the security group the plan creates, until it exists. */
export const MANAGED_SG = '<managed>';

export interface SgIngress {
  protocol: 'tcp';
  port: number;
  cidr: string;
}

export interface DesiredSecurityGroup {
  name: string;
  description: string;
  vpcId: string;
  tags: Tags;
  ingress: SgIngress[];
}

/** A rule on a cluster-tagged node security group: the ALB's group may reach a NodePort. */
export interface BackendRule {
  groupId: string;
  port: number;
  /** Source security group ID, or `MANAGED_SG`. */
  sourceGroupId: string;
}

export interface DesiredTargetGroup {
  /** Name of the spec entry. */
  key: string;
  /** AWS name. */
  name: string;
  protocol: 'HTTP' | 'HTTPS';
  /** The NodePort. */
  port: number;
  vpcId: string;
  healthCheck: HealthCheckSettings;
  attributes: Record<string, string>;
  tags: Tags;
}

export interface DesiredListener {
  port: number;
  protocol: 'HTTP' | 'HTTPS';
  certificateArns?: string[];
  sslPolicy?: string;
  defaultAction: RuleAction;
}

export interface DesiredRule {
  listenerPort: number;
  priority: number;
  hosts: string[];
  paths: string[];
  action: RuleAction;
}

export interface DesiredState {
  loadBalancer: DesiredLoadBalancer;
  /** Undefined when spec.securityGroups names the groups to use. */
  securityGroup?: DesiredSecurityGroup;
  backendRules: BackendRule[];
  /** Description on every backend rule; names the owner. */
  ruleDescription: string;
  targetGroups: DesiredTargetGroup[];
  listeners: DesiredListener[];
  rules: DesiredRule[];
  /** Instance IDs registered in every target group. */
  targets: string[];
}

export interface ActualLoadBalancer {
  arn: string;
  name: string;
  type: string;
  scheme: string;
  ipAddressType?: string;
  subnetIds: string[];
  securityGroups: string[];
  dnsName?: string;
  canonicalHostedZoneId?: string;
  /** ELB state: provisioning, active, active_impaired, failed (unset: not read). */
  state?: string;
  createdTime?: Date;
  tags: Tags;
  attributes?: Record<string, string>;
}

export interface ActualSecurityGroup {
  id: string;
  name: string;
  tags: Tags;
  ingress: Array<SgIngress & { ruleId: string }>;
}

export interface ActualBackendRule extends BackendRule {
  ruleId: string;
  description?: string;
}

export interface ActualTargetGroup {
  arn: string;
  name: string;
  protocol?: string;
  port?: number;
  healthCheck: Partial<HealthCheckSettings>;
  tags: Tags;
  attributes?: Record<string, string>;
  targets: string[];
}

export interface ActualListener {
  arn: string;
  loadBalancerArn: string;
  port: number;
  protocol: string;
  certificateArns: string[];
  sslPolicy?: string;
  defaultAction?: RuleAction;
}

export interface ActualRule {
  arn: string;
  listenerArn: string;
  listenerPort: number;
  priority: number;
  hosts: string[];
  paths: string[];
  action?: RuleAction;
}

export interface ActualState {
  loadBalancers: ActualLoadBalancer[];
  /** Security groups carrying this owner's tags. */
  securityGroups: ActualSecurityGroup[];
  /** Rules on node security groups whose description names this owner. */
  backendRules: ActualBackendRule[];
  targetGroups: ActualTargetGroup[];
  listeners: ActualListener[];
  rules: ActualRule[];
}

export type Action =
  | { op: 'createSecurityGroup'; sg: DesiredSecurityGroup }
  | { op: 'authorizeSecurityGroupIngress'; groupId: string; rules: SgIngress[] }
  | { op: 'authorizeBackend'; rules: BackendRule[]; description: string }
  | { op: 'createLoadBalancer'; lb: DesiredLoadBalancer }
  | { op: 'setSecurityGroups'; arn: string; securityGroups: string[] }
  | { op: 'setSubnets'; arn: string; subnetIds: string[] }
  | { op: 'modifyLoadBalancerAttributes'; arn: string; attributes: Record<string, string> }
  | { op: 'addTags'; arns: string[]; tags: Record<string, string> }
  | { op: 'createTargetGroup'; tg: DesiredTargetGroup }
  | { op: 'modifyTargetGroup'; arn: string; name: string; healthCheck: HealthCheckSettings }
  | { op: 'modifyTargetGroupAttributes'; targetGroupName: string; attributes: Record<string, string> }
  | { op: 'createListener'; listener: DesiredListener }
  | { op: 'modifyListener'; arn: string; listener: DesiredListener }
  | { op: 'createRule'; rule: DesiredRule }
  | { op: 'modifyRule'; arn: string; rule: DesiredRule }
  | { op: 'registerTargets'; targetGroupName: string; ids: string[] }
  | { op: 'deregisterTargets'; arn: string; name: string; ids: string[] }
  | { op: 'deleteRule'; arn: string; listenerPort: number; priority: number }
  | { op: 'deleteListener'; arn: string; port: number }
  | { op: 'deleteLoadBalancer'; arn: string; name: string; why: 'replaced' | 'duplicate' | 'deleted' }
  | { op: 'deleteTargetGroup'; arn: string; name: string }
  | { op: 'revokeBackend'; rules: ActualBackendRule[] }
  | { op: 'revokeSecurityGroupIngress'; groupId: string; ruleIds: string[] }
  | { op: 'deleteSecurityGroup'; groupId: string; name: string };

export interface Plan {
  /** The load balancer that stays (undefined: one is created by the plan). */
  keep?: ActualLoadBalancer;
  actions: Action[];
}
