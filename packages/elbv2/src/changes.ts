// The changes a diff asks for, one kind of AWS resource each; `deploy/` runs them. Every change is one
// step of a plan: the deployer of its resource kind makes its calls.
import type { ActualGroupRule, ActualNodeRule, GroupRule, HealthCheck, ListenerModel, LoadBalancerModel, NodeRule, RuleModel, SecurityGroupModel, TargetGroupModel } from './model.ts';

export type SecurityGroupChange =
  | { op: 'createSecurityGroup'; group: SecurityGroupModel }
  /** `groupId` may be `OWN_GROUP`: the group created earlier in the same plan. */
  | { op: 'authorizeGroupIngress'; groupId: string; rules: GroupRule[]; description?: string }
  | { op: 'revokeGroupIngress'; groupId: string; rules: ActualGroupRule[] }
  | { op: 'deleteSecurityGroup'; groupId: string; name: string };

export type NodeRuleChange = { op: 'authorizeNodeRules'; rules: NodeRule[]; description: string } | { op: 'revokeNodeRules'; rules: ActualNodeRule[] };

export type LoadBalancerChange =
  | { op: 'createLoadBalancer'; lb: LoadBalancerModel }
  | { op: 'deleteLoadBalancer'; arn: string; name: string; why: 'replaced' | 'duplicate' | 'name-collision' | 'deleted' }
  | { op: 'setSubnets'; arn: string; subnetIds: string[] }
  | { op: 'setIpAddressType'; arn: string; ipAddressType: string }
  | { op: 'setSecurityGroups'; arn: string; securityGroups: string[] }
  /** `arn` empty: the load balancer created earlier in the same plan. */
  | { op: 'modifyLoadBalancerAttributes'; arn: string; attributes: Record<string, string> }
  | TagChange;

/** ELBv2 ARNs and security group IDs alike. */
export type TagChange = { op: 'addTags'; arns: string[]; tags: Record<string, string> };

export type TargetGroupChange =
  | { op: 'createTargetGroup'; tg: TargetGroupModel }
  | { op: 'modifyTargetGroup'; arn: string; name: string; healthCheck: HealthCheck }
  | { op: 'modifyTargetGroupAttributes'; targetGroupName: string; attributes: Record<string, string> }
  | { op: 'registerTargets'; targetGroupName: string; ids: string[] }
  | { op: 'deregisterTargets'; arn: string; name: string; ids: string[] }
  | { op: 'deleteTargetGroup'; arn: string; name: string };

export type ListenerChange =
  | { op: 'createListener'; listener: ListenerModel }
  | { op: 'modifyListener'; arn: string; listener: ListenerModel }
  | { op: 'deleteListener'; arn: string; port: number };

export type RuleChange = { op: 'createRule'; rule: RuleModel } | { op: 'modifyRule'; arn: string; rule: RuleModel } | { op: 'deleteRule'; arn: string; listenerPort: number; priority: number };

export type Action = SecurityGroupChange | NodeRuleChange | LoadBalancerChange | TargetGroupChange | ListenerChange | RuleChange;

const portText = (from: number, to: number) => (from === to ? String(from) : `${from}-${to}`);
const groupRuleText = (r: GroupRule) => `${r.protocol}/${portText(r.fromPort, r.toPort)} from ${r.cidr}`;
const nodeRuleText = (r: NodeRule) => `${r.protocol}/${r.port} from ${r.cidr ?? (r.sourceGroupId === undefined ? '?' : r.sourceGroupId)} on ${r.groupId}`;

/** One line per action, for logs and Events; `noun` names the load balancer (NLB, ALB). */
export function describeAction(a: Action, noun = 'load balancer'): string {
  switch (a.op) {
    case 'createSecurityGroup':
      return `create security group ${a.group.name}`;
    case 'authorizeGroupIngress':
      return `allow ${a.rules.map(groupRuleText).join(', ')} on the ${noun} security group`;
    case 'revokeGroupIngress':
      return `revoke ${a.rules.map(groupRuleText).join(', ')} from the ${noun} security group ${a.groupId}`;
    case 'deleteSecurityGroup':
      return `delete security group ${a.name} (${a.groupId})`;
    case 'authorizeNodeRules':
      return `allow ${a.rules.map(nodeRuleText).join(', ')}`;
    case 'revokeNodeRules':
      return `revoke ${a.rules.map(nodeRuleText).join(', ')}`;
    case 'createLoadBalancer':
      return `create ${a.lb.scheme} ${noun} ${a.lb.name} in ${a.lb.subnetIds.join(', ')}`;
    case 'deleteLoadBalancer':
      return `delete ${noun} ${a.name} (${a.why})`;
    case 'setSubnets':
      return `set subnets of the ${noun} to ${a.subnetIds.join(', ')}`;
    case 'setIpAddressType':
      return `set IP address type of the ${noun} to ${a.ipAddressType}`;
    case 'setSecurityGroups':
      return `set security groups of the ${noun} to ${a.securityGroups.join(', ')}`;
    case 'modifyLoadBalancerAttributes':
      return `set ${noun} attributes ${Object.entries(a.attributes)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}`;
    case 'addTags':
      return `tag ${a.arns.length} resource(s) with ${Object.keys(a.tags).join(', ')}`;
    case 'createTargetGroup':
      return `create target group ${a.tg.name} (${a.tg.protocol} ${a.tg.port})`;
    case 'modifyTargetGroup':
      return `update health check of target group ${a.name}`;
    case 'modifyTargetGroupAttributes':
      return `set attributes of target group ${a.targetGroupName}`;
    case 'registerTargets':
      return `register ${a.ids.join(', ')} in target group ${a.targetGroupName}`;
    case 'deregisterTargets':
      return `deregister ${a.ids.join(', ')} from target group ${a.name}`;
    case 'deleteTargetGroup':
      return `delete target group ${a.name}`;
    case 'createListener':
      return `create ${a.listener.protocol} listener on port ${a.listener.port}`;
    case 'modifyListener':
      return `update listener on port ${a.listener.port}`;
    case 'deleteListener':
      return `delete listener on port ${a.port}`;
    case 'createRule':
      return `create rule ${a.rule.priority} on port ${a.rule.listenerPort} (${[...a.rule.hosts, ...a.rule.paths].join(' ')})`;
    case 'modifyRule':
      return `update rule ${a.rule.priority} on port ${a.rule.listenerPort}`;
    case 'deleteRule':
      return `delete rule ${a.priority} on port ${a.listenerPort}`;
  }
}

/** The Event reason each change is reported with. */
export const EVENT_REASONS: Readonly<Record<Action['op'], string>> = {
  createSecurityGroup: 'CreatedSecurityGroup',
  authorizeGroupIngress: 'AuthorizedIngress',
  revokeGroupIngress: 'RevokedIngress',
  deleteSecurityGroup: 'DeletedSecurityGroup',
  authorizeNodeRules: 'AuthorizedIngress',
  revokeNodeRules: 'RevokedIngress',
  createLoadBalancer: 'CreatedLoadBalancer',
  deleteLoadBalancer: 'DeletedLoadBalancer',
  setSubnets: 'UpdatedLoadBalancer',
  setIpAddressType: 'UpdatedLoadBalancer',
  setSecurityGroups: 'UpdatedLoadBalancer',
  modifyLoadBalancerAttributes: 'UpdatedLoadBalancer',
  addTags: 'UpdatedTags',
  createTargetGroup: 'CreatedTargetGroup',
  modifyTargetGroup: 'UpdatedTargetGroup',
  modifyTargetGroupAttributes: 'UpdatedTargetGroup',
  registerTargets: 'RegisteredTargets',
  deregisterTargets: 'DeregisteredTargets',
  deleteTargetGroup: 'DeletedTargetGroup',
  createListener: 'CreatedListener',
  modifyListener: 'UpdatedListener',
  deleteListener: 'DeletedListener',
  createRule: 'CreatedRule',
  modifyRule: 'UpdatedRule',
  deleteRule: 'DeletedRule',
};
