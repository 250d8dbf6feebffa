// The shapes the planner works on: the desired AWS state built from a NetworkLoadBalancer, the actual
// state read from AWS (only what carries this CR's owner tags), and the actions that close the gap.
import type { Tags } from '@kube-iaas/core';

export type ListenerProtocol = 'TCP' | 'UDP' | 'TCP_UDP' | 'TLS';

export interface HealthCheckSettings {
  protocol: 'TCP' | 'HTTP' | 'HTTPS';
  /** `traffic-port` or a port number as a string, as ELBv2 reports it. */
  port: string;
  path?: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  successCodes?: string;
}

export interface DesiredLoadBalancer {
  name: string;
  scheme: 'internet-facing' | 'internal';
  ipAddressType: 'ipv4' | 'dualstack';
  subnetIds: string[];
  tags: Tags;
  /** Only the attributes the spec sets; others are left as they are. */
  attributes: Record<string, string>;
  /**
   * The cluster's shared backend security group. Set when the operator manages security groups: the
   * NLB is created with its own frontend group and this one (AWS only accepts security groups on an
   * NLB created with some, so this is decided at creation).
   */
  backendGroupId?: string;
}

export interface DesiredTargetGroup {
  name: string;
  listenerPort: number;
  protocol: ListenerProtocol;
  /** The NodePort. */
  port: number;
  vpcId: string;
  healthCheck: HealthCheckSettings;
  attributes: Record<string, string>;
  tags: Tags;
}

export interface DesiredListener {
  port: number;
  protocol: ListenerProtocol;
  /** Name of the target group it forwards to. */
  targetGroupName: string;
  certificateArns?: string[];
  sslPolicy?: string;
  alpnPolicy?: string;
}

export interface RuleSpec {
  groupId: string;
  protocol: 'tcp' | 'udp';
  port: number;
  cidr: string;
}

/** An ingress rule of the load balancer's frontend security group: clients to listener ports. */
export interface FrontendRule {
  protocol: 'tcp' | 'udp';
  fromPort: number;
  toPort: number;
  cidr: string;
}

/** The load balancer's own security group, created and deleted with it. */
export interface DesiredFrontendGroup {
  name: string;
  description: string;
  vpcId: string;
  tags: Tags;
  rules: FrontendRule[];
}

export interface DesiredState {
  loadBalancer: DesiredLoadBalancer;
  targetGroups: DesiredTargetGroup[];
  listeners: DesiredListener[];
  /** Instance IDs registered in every target group. */
  targets: string[];
  /**
   * Ingress rules on the cluster-tagged node security group(s), for an NLB that has no security groups
   * (created before the frontend/backend model, or with rule management off): AWS cannot add groups
   * to such an NLB, so it keeps being served this way until it is replaced.
   */
  rules: RuleSpec[];
  /** The frontend group; undefined when the operator does not manage security groups. */
  frontend?: DesiredFrontendGroup;
  /** Description put on every rule; names the owner. */
  ruleDescription: string;
}

export interface ActualLoadBalancer {
  arn: string;
  name: string;
  type: string;
  scheme: string;
  ipAddressType?: string;
  subnetIds: string[];
  dnsName?: string;
  canonicalHostedZoneId?: string;
  state?: string;
  createdTime?: Date;
  /** Attached security groups; empty for an NLB created without any. */
  securityGroupIds: string[];
  tags: Tags;
  /** Present when read (only when the spec sets attributes). */
  attributes?: Record<string, string>;
}

export interface ActualListener {
  arn: string;
  loadBalancerArn: string;
  port: number;
  protocol: string;
  targetGroupArn?: string;
  certificateArns: string[];
  sslPolicy?: string;
  alpnPolicy?: string;
}

export interface ActualTargetGroup {
  arn: string;
  name: string;
  protocol?: string;
  port?: number;
  vpcId?: string;
  healthCheck: Partial<HealthCheckSettings>;
  tags: Tags;
  attributes?: Record<string, string>;
  /** Registered instance IDs. */
  targets: string[];
  healthyTargets: number;
}

export interface ActualRule extends RuleSpec {
  id: string;
  description?: string;
}

export interface ActualFrontendRule extends FrontendRule {
  id: string;
}

export interface ActualFrontendGroup {
  id: string;
  name: string;
  rules: ActualFrontendRule[];
}

export interface ActualState {
  loadBalancers: ActualLoadBalancer[];
  listeners: ActualListener[];
  targetGroups: ActualTargetGroup[];
  /** Rules whose description names this owner. */
  rules: ActualRule[];
  /** Security groups carrying this owner's tags (its frontend group; more only after a crash). */
  frontendGroups: ActualFrontendGroup[];
}

export type Action =
  | { op: 'deleteLoadBalancer'; arn: string; name: string; why: 'replaced' | 'duplicate' | 'name-collision' | 'deleted' }
  | { op: 'createLoadBalancer'; lb: DesiredLoadBalancer }
  | { op: 'setSubnets'; arn: string; subnetIds: string[] }
  | { op: 'setIpAddressType'; arn: string; ipAddressType: string }
  | { op: 'modifyLoadBalancerAttributes'; arn: string; attributes: Record<string, string> }
  | { op: 'addTags'; arns: string[]; tags: Record<string, string> }
  | { op: 'createTargetGroup'; tg: DesiredTargetGroup }
  | { op: 'modifyTargetGroup'; arn: string; name: string; healthCheck: HealthCheckSettings }
  | { op: 'modifyTargetGroupAttributes'; targetGroupName: string; attributes: Record<string, string> }
  | { op: 'registerTargets'; targetGroupName: string; ids: string[] }
  | { op: 'deregisterTargets'; arn: string; name: string; ids: string[] }
  | { op: 'authorizeIngress'; rules: RuleSpec[]; description: string }
  | { op: 'createListener'; listener: DesiredListener }
  | { op: 'modifyListener'; arn: string; listener: DesiredListener }
  | { op: 'deleteListener'; arn: string; port: number }
  | { op: 'deleteTargetGroup'; arn: string; name: string }
  | { op: 'revokeIngress'; rules: ActualRule[] }
  | { op: 'createSecurityGroup'; group: DesiredFrontendGroup }
  /** `groupId` undefined: the group created earlier in the same plan. */
  | { op: 'authorizeFrontend'; groupId?: string; rules: FrontendRule[]; description: string }
  | { op: 'revokeFrontend'; groupId: string; rules: ActualFrontendRule[] }
  | { op: 'setSecurityGroups'; arn: string; backendGroupId: string; frontendGroupId?: string }
  | { op: 'deleteSecurityGroup'; groupId: string; name: string };

export interface Plan {
  /** The load balancer that stays (undefined: one is created by the plan). */
  keep?: ActualLoadBalancer;
  /** The frontend group that stays (undefined: none, or one is created by the plan). */
  frontend?: ActualFrontendGroup;
  actions: Action[];
}
