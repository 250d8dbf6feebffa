// Pure: the fewest AWS calls that turn the actual state into the desired one, in dependency order.
import { changedEntries, deepEqual, diffSets, diffTags } from '@kube-iaas/core';
import { frontendRuleKey, ruleKey } from './desired.ts';
import type {
  Action,
  ActualFrontendGroup,
  ActualListener,
  ActualLoadBalancer,
  ActualRule,
  ActualState,
  ActualTargetGroup,
  DesiredFrontendGroup,
  DesiredListener,
  DesiredState,
  HealthCheckSettings,
  Plan,
} from './types.ts';

/** Whether an existing load balancer can serve the desired one, or must be replaced. */
export function replacementReason(desired: DesiredState['loadBalancer'], actual: ActualLoadBalancer): string | undefined {
  if (actual.type && actual.type !== 'network') return `it is of type ${actual.type}, not network`;
  if (actual.scheme !== desired.scheme) return `scheme changes from ${actual.scheme} to ${desired.scheme}`;
  if (actual.name !== desired.name) return `name changes from ${actual.name} to ${desired.name}`;
  return undefined;
}

/** Attributes whose desired value differs from AWS's (keys the spec does not set are left alone). */
export const changedAttributes = changedEntries;

export function healthCheckDiffers(desired: HealthCheckSettings, actual: Partial<HealthCheckSettings>): boolean {
  const fields: Array<keyof HealthCheckSettings> = ['protocol', 'port', 'intervalSeconds', 'timeoutSeconds', 'healthyThreshold', 'unhealthyThreshold', 'path', 'successCodes'];
  return fields.some((f) => desired[f] !== undefined && desired[f] !== actual[f]);
}

function listenerDiffers(desired: DesiredListener, actual: ActualListener, tgArnOf: (name: string) => string | undefined): boolean {
  if (actual.protocol !== desired.protocol) return true;
  const tgArn = tgArnOf(desired.targetGroupName);
  if (!tgArn || actual.targetGroupArn !== tgArn) return true;
  if (desired.protocol !== 'TLS') return false;
  // DescribeListeners reports the default certificate only; the others are added once, at creation.
  if ((desired.certificateArns ?? [])[0] !== actual.certificateArns[0]) return true;
  if (desired.sslPolicy !== undefined && desired.sslPolicy !== actual.sslPolicy) return true;
  if (desired.alpnPolicy !== undefined && desired.alpnPolicy !== actual.alpnPolicy) return true;
  return false;
}

/** Picks the load balancer to keep: a matching one, the oldest first. */
function pickKeep(desired: DesiredState, lbs: readonly ActualLoadBalancer[]): ActualLoadBalancer | undefined {
  const matching = lbs.filter((lb) => !replacementReason(desired.loadBalancer, lb));
  return [...matching].sort((a, b) => (a.createdTime?.getTime() ?? 0) - (b.createdTime?.getTime() ?? 0) || (a.arn < b.arn ? -1 : 1))[0];
}

/** The frontend group to keep: the one with the desired name, else the first (IDs sorted). */
function pickFrontend(desired: DesiredFrontendGroup, groups: readonly ActualFrontendGroup[]): ActualFrontendGroup | undefined {
  return groups.find((g) => g.name === desired.name) ?? [...groups].sort((a, b) => (a.id < b.id ? -1 : 1))[0];
}

/**
 * The plan for one NetworkLoadBalancer. Order: make room for a reused name, create the NLB, update it,
 * target groups, targets, security-group rules, listeners; then remove what is no longer used
 * (listeners, replaced NLBs, target groups, rules), so traffic moves before anything is taken away.
 */
export function planChanges(desired: DesiredState, actual: ActualState): Plan {
  const actions: Action[] = [];
  const keep = pickKeep(desired, actual.loadBalancers);
  const others = actual.loadBalancers.filter((lb) => lb !== keep);

  // Security groups. AWS accepts groups on an NLB only if it was created with some, so an NLB made
  // without them (before the frontend/backend model) keeps its rules on the node group until it is
  // replaced; every new NLB is created with its own frontend group and the cluster's backend group.
  const legacy = keep !== undefined && keep.securityGroupIds.length === 0;
  const backendGroupId = desired.loadBalancer.backendGroupId;
  const useGroups = desired.frontend !== undefined && backendGroupId !== undefined && !legacy;
  const frontend = useGroups && desired.frontend ? pickFrontend(desired.frontend, actual.frontendGroups) : undefined;
  if (useGroups && desired.frontend) {
    if (!frontend) actions.push({ op: 'createSecurityGroup', group: desired.frontend });
    const have = new Set((frontend?.rules ?? []).map(frontendRuleKey));
    const missing = desired.frontend.rules.filter((r) => !have.has(frontendRuleKey(r)));
    if (missing.length > 0) actions.push({ op: 'authorizeFrontend', ...(frontend ? { groupId: frontend.id } : {}), rules: missing, description: desired.ruleDescription });
  }

  // A replaced NLB whose name the new one reuses (a fixed spec.loadBalancerName) must go first.
  const collide = keep ? [] : others.filter((lb) => lb.name === desired.loadBalancer.name);
  for (const lb of collide) actions.push({ op: 'deleteLoadBalancer', arn: lb.arn, name: lb.name, why: 'name-collision' });
  if (!keep) actions.push({ op: 'createLoadBalancer', lb: useGroups ? desired.loadBalancer : withoutGroups(desired.loadBalancer) });
  else {
    if (useGroups && backendGroupId) {
      const want = [backendGroupId, ...(frontend ? [frontend.id] : [])].sort();
      if (!frontend || !deepEqual([...keep.securityGroupIds].sort(), want)) actions.push({ op: 'setSecurityGroups', arn: keep.arn, backendGroupId, ...(frontend ? { frontendGroupId: frontend.id } : {}) });
    }
    if (!deepEqual([...keep.subnetIds].sort(), desired.loadBalancer.subnetIds)) actions.push({ op: 'setSubnets', arn: keep.arn, subnetIds: desired.loadBalancer.subnetIds });
    if (keep.ipAddressType && keep.ipAddressType !== desired.loadBalancer.ipAddressType) actions.push({ op: 'setIpAddressType', arn: keep.arn, ipAddressType: desired.loadBalancer.ipAddressType });
    const tagDiff = diffTags(desired.loadBalancer.tags, keep.tags);
    if (!tagDiff.empty) actions.push({ op: 'addTags', arns: [keep.arn], tags: tagDiff.toAdd });
  }
  const lbAttrs = keep ? changedAttributes(desired.loadBalancer.attributes, keep.attributes) : desired.loadBalancer.attributes;
  if (Object.keys(lbAttrs).length > 0) actions.push({ op: 'modifyLoadBalancerAttributes', arn: keep?.arn ?? '', attributes: lbAttrs });

  // Target groups, by name (the name encodes everything AWS cannot change).
  const tgByName = new Map<string, ActualTargetGroup>(actual.targetGroups.map((tg) => [tg.name, tg]));
  const desiredTgNames = new Set(desired.targetGroups.map((t) => t.name));
  for (const tg of desired.targetGroups) {
    const a = tgByName.get(tg.name);
    if (!a) {
      actions.push({ op: 'createTargetGroup', tg });
      if (Object.keys(tg.attributes).length > 0) actions.push({ op: 'modifyTargetGroupAttributes', targetGroupName: tg.name, attributes: tg.attributes });
      if (desired.targets.length > 0) actions.push({ op: 'registerTargets', targetGroupName: tg.name, ids: [...desired.targets] });
      continue;
    }
    if (healthCheckDiffers(tg.healthCheck, a.healthCheck)) actions.push({ op: 'modifyTargetGroup', arn: a.arn, name: a.name, healthCheck: tg.healthCheck });
    const attrs = changedAttributes(tg.attributes, a.attributes);
    if (Object.keys(attrs).length > 0) actions.push({ op: 'modifyTargetGroupAttributes', targetGroupName: tg.name, attributes: attrs });
    const tagDiff = diffTags(tg.tags, a.tags);
    if (!tagDiff.empty) actions.push({ op: 'addTags', arns: [a.arn], tags: tagDiff.toAdd });
    const t = diffSets(desired.targets, a.targets);
    if (t.toAdd.length > 0) actions.push({ op: 'registerTargets', targetGroupName: tg.name, ids: t.toAdd });
    if (t.toRemove.length > 0) actions.push({ op: 'deregisterTargets', arn: a.arn, name: a.name, ids: t.toRemove });
  }

  // Node-group rules (only for an NLB without security groups): add before the listeners open, remove
  // after they close. With groups, the old rules of a replaced NLB go only once the new one serves.
  const nodeRules = useGroups ? [] : desired.rules;
  const actualRules = new Map<string, ActualRule>(actual.rules.map((r) => [ruleKey(r), r]));
  const desiredRuleKeys = new Set(nodeRules.map(ruleKey));
  const missing = nodeRules.filter((r) => !actualRules.has(ruleKey(r)));
  if (missing.length > 0) actions.push({ op: 'authorizeIngress', rules: missing, description: desired.ruleDescription });

  // Listeners on the kept NLB, by port.
  const tgArnOf = (name: string) => tgByName.get(name)?.arn;
  const onKeep = keep ? actual.listeners.filter((l) => l.loadBalancerArn === keep.arn) : [];
  const listenerByPort = new Map(onKeep.map((l) => [l.port, l]));
  for (const l of desired.listeners) {
    const a = listenerByPort.get(l.port);
    if (!a) actions.push({ op: 'createListener', listener: l });
    else if (listenerDiffers(l, a, tgArnOf)) actions.push({ op: 'modifyListener', arn: a.arn, listener: l });
  }
  const desiredPorts = new Set(desired.listeners.map((l) => l.port));
  for (const a of onKeep) if (!desiredPorts.has(a.port)) actions.push({ op: 'deleteListener', arn: a.arn, port: a.port });

  // Replaced or duplicate NLBs (their listeners go with them), then unused target groups and rules.
  for (const lb of others) {
    if (collide.includes(lb)) continue;
    actions.push({ op: 'deleteLoadBalancer', arn: lb.arn, name: lb.name, why: replacementReason(desired.loadBalancer, lb) ? 'replaced' : 'duplicate' });
  }
  for (const tg of actual.targetGroups) if (!desiredTgNames.has(tg.name)) actions.push({ op: 'deleteTargetGroup', arn: tg.arn, name: tg.name });
  const extra = actual.rules.filter((r) => !desiredRuleKeys.has(ruleKey(r)));
  if (extra.length > 0) actions.push({ op: 'revokeIngress', rules: extra });
  if (frontend && desired.frontend) {
    const want = new Set(desired.frontend.rules.map(frontendRuleKey));
    const stale = frontend.rules.filter((r) => !want.has(frontendRuleKey(r)));
    if (stale.length > 0) actions.push({ op: 'revokeFrontend', groupId: frontend.id, rules: stale });
  }
  // Groups of this owner that no NLB will use (a duplicate after a crash, or the group of an NLB that
  // went back to having none); the NLBs deleted above release theirs.
  const inUse = new Set([...(frontend ? [frontend.id] : []), ...(keep?.securityGroupIds ?? [])]);
  for (const g of actual.frontendGroups) if (!inUse.has(g.id)) actions.push({ op: 'deleteSecurityGroup', groupId: g.id, name: g.name });

  return { ...(keep ? { keep } : {}), ...(frontend ? { frontend } : {}), actions };
}

function withoutGroups(lb: DesiredState['loadBalancer']): DesiredState['loadBalancer'] {
  const { backendGroupId: _unused, ...rest } = lb;
  return rest;
}

/** Everything of this owner, removed in dependency order (listeners go with their NLB). */
export function planDeletion(actual: ActualState): Action[] {
  const actions: Action[] = [];
  for (const lb of actual.loadBalancers) actions.push({ op: 'deleteLoadBalancer', arn: lb.arn, name: lb.name, why: 'deleted' });
  for (const tg of actual.targetGroups) actions.push({ op: 'deleteTargetGroup', arn: tg.arn, name: tg.name });
  if (actual.rules.length > 0) actions.push({ op: 'revokeIngress', rules: [...actual.rules] });
  // The frontend group last: AWS frees it only once the NLB is gone.
  for (const g of actual.frontendGroups) actions.push({ op: 'deleteSecurityGroup', groupId: g.id, name: g.name });
  return actions;
}

/** Actions that change AWS (every action does); exported for logs and Events. */
export function describeAction(a: Action): string {
  switch (a.op) {
    case 'createLoadBalancer':
      return `create ${a.lb.scheme} NLB ${a.lb.name} in ${a.lb.subnetIds.join(', ')}`;
    case 'deleteLoadBalancer':
      return `delete NLB ${a.name} (${a.why})`;
    case 'setSubnets':
      return `set subnets of the NLB to ${a.subnetIds.join(', ')}`;
    case 'setIpAddressType':
      return `set IP address type to ${a.ipAddressType}`;
    case 'modifyLoadBalancerAttributes':
      return `set NLB attributes ${Object.entries(a.attributes).map(([k, v]) => `${k}=${v}`).join(', ')}`;
    case 'addTags':
      return `tag ${a.arns.length} resource(s) with ${Object.keys(a.tags).join(', ')}`;
    case 'createTargetGroup':
      return `create target group ${a.tg.name} (${a.tg.protocol} ${a.tg.port}) for listener ${a.tg.listenerPort}`;
    case 'modifyTargetGroup':
      return `update health check of target group ${a.name}`;
    case 'modifyTargetGroupAttributes':
      return `set attributes of target group ${a.targetGroupName}`;
    case 'registerTargets':
      return `register ${a.ids.join(', ')} in target group ${a.targetGroupName}`;
    case 'deregisterTargets':
      return `deregister ${a.ids.join(', ')} from target group ${a.name}`;
    case 'authorizeIngress':
      return `allow ${a.rules.map((r) => `${r.protocol}/${r.port} from ${r.cidr}`).join(', ')} on ${[...new Set(a.rules.map((r) => r.groupId))].join(', ')}`;
    case 'createListener':
      return `create ${a.listener.protocol} listener on port ${a.listener.port}`;
    case 'modifyListener':
      return `update listener on port ${a.listener.port}`;
    case 'deleteListener':
      return `delete listener on port ${a.port}`;
    case 'deleteTargetGroup':
      return `delete target group ${a.name}`;
    case 'revokeIngress':
      return `revoke ${a.rules.map((r) => `${r.protocol}/${r.port} from ${r.cidr}`).join(', ')}`;
    case 'createSecurityGroup':
      return `create frontend security group ${a.group.name}`;
    case 'authorizeFrontend':
      return `allow ${a.rules.map(frontendRuleText).join(', ')} on the frontend security group${a.groupId ? ` ${a.groupId}` : ''}`;
    case 'revokeFrontend':
      return `revoke ${a.rules.map(frontendRuleText).join(', ')} from the frontend security group ${a.groupId}`;
    case 'setSecurityGroups':
      return `set the NLB's security groups to its frontend group${a.frontendGroupId ? ` ${a.frontendGroupId}` : ''} and the backend group ${a.backendGroupId}`;
    case 'deleteSecurityGroup':
      return `delete security group ${a.name} (${a.groupId})`;
  }
}

function frontendRuleText(r: { protocol: string; fromPort: number; toPort: number; cidr: string }): string {
  return `${r.protocol}/${r.fromPort === r.toPort ? r.fromPort : `${r.fromPort}-${r.toPort}`} from ${r.cidr}`;
}
