// The model both load-balancer operators build (desired) and read (actual): one load balancer, its own
// security group, rules on the cluster's node security groups, target groups, listeners and listener
// rules. An operator translates its custom resource into a `Model`; the diff (diff/) and the deployers
// (deploy/) know nothing of NetworkLoadBalancer or ApplicationLoadBalancer.
import type { Tags } from '@kube-iaas/core/tags';

export type LoadBalancerType = 'network' | 'application';

/** Stands for the ID of the load balancer's own security group until it exists. */
export const OWN_GROUP = '<managed>';

export interface HealthCheck {
  protocol: string;
  /** `traffic-port` or a port number as a string, as ELBv2 reports it. */
  port: string;
  path?: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  /** `Matcher.HttpCode` (HTTP/HTTPS health checks). */
  successCodes?: string;
}

/** A listener or rule action, with target groups by their AWS names. */
export type ActionModel =
  | { type: 'forward'; targetGroups: Array<{ name: string; weight: number }> }
  | { type: 'fixed-response'; statusCode: string; contentType?: string; messageBody?: string }
  | { type: 'redirect'; statusCode: 'HTTP_301' | 'HTTP_302'; protocol?: string; port?: string; host?: string; path?: string; query?: string };

export interface LoadBalancerModel {
  name: string;
  type: LoadBalancerType;
  scheme: 'internet-facing' | 'internal';
  ipAddressType: string;
  subnetIds: string[];
  /** Security groups by ID (`OWN_GROUP` for the load balancer's own); empty: created without any. */
  securityGroups: string[];
  tags: Tags;
  /** Only the attributes the spec sets; others are left as they are. */
  attributes: Record<string, string>;
}

/** An ingress rule of the load balancer's own group: clients to listener ports. */
export interface GroupRule {
  protocol: 'tcp' | 'udp';
  fromPort: number;
  toPort: number;
  cidr: string;
}

/** The load balancer's own security group, created and deleted with it. */
export interface SecurityGroupModel {
  name: string;
  description: string;
  vpcId: string;
  tags: Tags;
  ingress: GroupRule[];
  /** Description put on each ingress rule (none when unset). */
  ruleDescription?: string;
}

/** A rule on a cluster-tagged node security group, from a CIDR or from a security group. */
export interface NodeRule {
  groupId: string;
  protocol: 'tcp' | 'udp';
  port: number;
  cidr?: string;
  /** Source security group ID, or `OWN_GROUP`. */
  sourceGroupId?: string;
}

export interface TargetGroupModel {
  name: string;
  protocol: string;
  /** The NodePort. */
  port: number;
  vpcId: string;
  healthCheck: HealthCheck;
  attributes: Record<string, string>;
  tags: Tags;
}

export interface ListenerModel {
  port: number;
  protocol: string;
  certificateArns?: string[];
  sslPolicy?: string;
  alpnPolicy?: string;
  defaultAction: ActionModel;
}

export interface RuleModel {
  listenerPort: number;
  priority: number;
  hosts: string[];
  paths: string[];
  action: ActionModel;
}

export interface Model {
  loadBalancer: LoadBalancerModel;
  /** Undefined: the load balancer has no group of its own. */
  securityGroup?: SecurityGroupModel | undefined;
  nodeRules: NodeRule[];
  /** Description on every node rule; names the owner. */
  ruleDescription: string;
  targetGroups: TargetGroupModel[];
  listeners: ListenerModel[];
  rules: RuleModel[];
  /** Instance IDs registered in every target group. */
  targets: string[];
}

// --- actual state -------------------------------------------------------------------------------

export interface ActualLoadBalancer {
  arn: string;
  name: string;
  type: string;
  scheme: string;
  ipAddressType?: string;
  subnetIds: string[];
  /** Attached security groups, sorted; empty for an NLB created without any. */
  securityGroupIds: string[];
  dnsName?: string;
  canonicalHostedZoneId?: string;
  /** provisioning, active, active_impaired, failed. */
  state?: string;
  createdTime?: Date;
  tags: Tags;
  /** Present when read (only when the model sets attributes). */
  attributes?: Record<string, string>;
}

export interface ActualGroupRule extends GroupRule {
  id: string;
}

export interface ActualSecurityGroup {
  id: string;
  name: string;
  tags: Tags;
  ingress: ActualGroupRule[];
}

export interface ActualNodeRule extends NodeRule {
  id: string;
  description?: string;
}

export interface ActualTargetGroup {
  arn: string;
  name: string;
  protocol?: string;
  port?: number;
  vpcId?: string;
  healthCheck: Partial<HealthCheck>;
  tags: Tags;
  attributes?: Record<string, string>;
  /** Registered instance IDs (draining ones left out). */
  targets: string[];
  healthyTargets: number;
}

export interface ActualListener {
  arn: string;
  loadBalancerArn: string;
  port: number;
  protocol: string;
  certificateArns: string[];
  sslPolicy?: string;
  alpnPolicy?: string;
  /** Undefined when AWS holds something kube-iaas does not write (authenticate-*, several actions). */
  defaultAction?: ActionModel;
  /** ARNs of the target groups its default actions forward to. */
  forwardArns: string[];
}

export interface ActualRule {
  arn: string;
  listenerArn: string;
  listenerPort: number;
  priority: number;
  hosts: string[];
  paths: string[];
  action?: ActionModel;
  forwardArns: string[];
}

export interface ActualState {
  loadBalancers: ActualLoadBalancer[];
  /** Security groups carrying the owner's tags. */
  securityGroups: ActualSecurityGroup[];
  /** Rules on node security groups whose description names the owner. */
  nodeRules: ActualNodeRule[];
  targetGroups: ActualTargetGroup[];
  listeners: ActualListener[];
  rules: ActualRule[];
}

/** Nothing found: what a plan starts from when AWS holds nothing of the owner. */
export function emptyActual(): ActualState {
  return { loadBalancers: [], securityGroups: [], nodeRules: [], targetGroups: [], listeners: [], rules: [] };
}
