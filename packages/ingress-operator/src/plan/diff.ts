// Pure: the fewest AWS calls that turn the actual state into the desired one, in dependency order.
// Create: security group (+ its ingress and the backend rules) → ALB → target groups → listeners → rules
// → registrations. Remove, in reverse: deregistrations → rules → listeners → replaced ALBs → target groups
// → backend rules → security-group ingress → security groups.
import { changedEntries, deepEqual, diffByKey, diffSets, diffTags } from '@kube-iaas/core';
import { MANAGED_SG } from './types.ts';
import type {
  Action,
  ActualLoadBalancer,
  ActualListener,
  ActualRule,
  ActualState,
  BackendRule,
  DesiredListener,
  DesiredRule,
  DesiredState,
  HealthCheckSettings,
  Plan,
  SgIngress,
} from './types.ts';

export function replacementReason(desired: DesiredState['loadBalancer'], actual: ActualLoadBalancer): string | undefined {
  if (actual.type && actual.type !== 'application') return `it is of type ${actual.type}, not application`;
  if (actual.scheme !== desired.scheme) return `scheme changes from ${actual.scheme} to ${desired.scheme}`;
  if (actual.name !== desired.name) return `name changes from ${actual.name} to ${desired.name}`;
  return undefined;
}

/** Attributes whose desired value differs from AWS's (keys the spec does not set are left alone). */
export const changedAttributes = changedEntries;

export function healthCheckDiffers(desired: HealthCheckSettings, actual: Partial<HealthCheckSettings>): boolean {
  return (Object.keys(desired) as Array<keyof HealthCheckSettings>).some((f) => desired[f] !== actual[f]);
}

const ingressKey = (r: SgIngress) => `${r.protocol}|${r.port}|${r.cidr}`;
export const backendKey = (r: BackendRule) => `${r.groupId}|${r.port}|${r.sourceGroupId}`;
const ruleKey = (r: { listenerPort: number; priority: number }) => `${r.listenerPort}|${r.priority}`;
const sorted = (xs: readonly string[]) => [...xs].sort();

function listenerDiffers(d: DesiredListener, a: ActualListener): boolean {
  if (a.protocol !== d.protocol) return true;
  if (!deepEqual(d.defaultAction, a.defaultAction)) return true;
  if (d.protocol !== 'HTTPS') return false;
  // DescribeListeners reports the default certificate only; the others are added at creation.
  if ((d.certificateArns ?? [])[0] !== a.certificateArns[0]) return true;
  return d.sslPolicy !== undefined && d.sslPolicy !== a.sslPolicy;
}

function ruleDiffers(d: DesiredRule, a: ActualRule): boolean {
  return !deepEqual(sorted(d.hosts), sorted(a.hosts)) || !deepEqual(sorted(d.paths), sorted(a.paths)) || !deepEqual(d.action, a.action);
}

function pickKeep(desired: DesiredState, lbs: readonly ActualLoadBalancer[]): ActualLoadBalancer | undefined {
  const matching = lbs.filter((lb) => !replacementReason(desired.loadBalancer, lb));
  return [...matching].sort((a, b) => (a.createdTime?.getTime() ?? 0) - (b.createdTime?.getTime() ?? 0) || (a.arn < b.arn ? -1 : 1))[0];
}

/** The plan for one ApplicationLoadBalancer. A steady state gives no actions. */
export function planChanges(desired: DesiredState, actual: ActualState): Plan {
  const actions: Action[] = [];

  // 1. Our security group, its ingress on the listener ports, then the node-group rules from it.
  const dsg = desired.securityGroup;
  const sg = dsg ? (actual.securityGroups.find((g) => g.name === dsg.name) ?? actual.securityGroups[0]) : undefined;
  const sgId = sg?.id ?? MANAGED_SG;
  if (dsg && !sg) actions.push({ op: 'createSecurityGroup', sg: dsg });
  const ingressDiff = dsg ? diffByKey(dsg.ingress, sg?.ingress ?? [], { desiredKey: ingressKey, actualKey: ingressKey, equal: () => true }) : undefined;
  if (dsg && ingressDiff && ingressDiff.toCreate.length > 0) actions.push({ op: 'authorizeSecurityGroupIngress', groupId: sgId, rules: ingressDiff.toCreate });
  if (dsg && sg) {
    const t = diffTags(dsg.tags, sg.tags);
    if (!t.empty) actions.push({ op: 'addTags', arns: [sg.id], tags: t.toAdd });
  }
  const resolve = (r: BackendRule): BackendRule => (r.sourceGroupId === MANAGED_SG ? { ...r, sourceGroupId: sgId } : r);
  const wantBackend = desired.backendRules.map(resolve);
  const backendDiff = diffByKey(wantBackend, actual.backendRules, { desiredKey: backendKey, actualKey: backendKey, equal: () => true });
  if (backendDiff.toCreate.length > 0) actions.push({ op: 'authorizeBackend', rules: backendDiff.toCreate, description: desired.ruleDescription });

  // 2. The ALB.
  const keep = pickKeep(desired, actual.loadBalancers);
  const others = actual.loadBalancers.filter((lb) => lb !== keep);
  const wantGroups = desired.loadBalancer.securityGroups.map((g) => (g === MANAGED_SG ? sgId : g)).sort();
  if (!keep) actions.push({ op: 'createLoadBalancer', lb: { ...desired.loadBalancer, securityGroups: wantGroups } });
  else {
    if (!deepEqual(sorted(keep.subnetIds), desired.loadBalancer.subnetIds)) actions.push({ op: 'setSubnets', arn: keep.arn, subnetIds: desired.loadBalancer.subnetIds });
    if (!deepEqual(sorted(keep.securityGroups), wantGroups)) actions.push({ op: 'setSecurityGroups', arn: keep.arn, securityGroups: wantGroups });
    const t = diffTags(desired.loadBalancer.tags, keep.tags);
    if (!t.empty) actions.push({ op: 'addTags', arns: [keep.arn], tags: t.toAdd });
  }
  const lbAttrs = keep ? changedAttributes(desired.loadBalancer.attributes, keep.attributes) : desired.loadBalancer.attributes;
  if (Object.keys(lbAttrs).length > 0) actions.push({ op: 'modifyLoadBalancerAttributes', arn: keep?.arn ?? '', attributes: lbAttrs });

  // 3. Target groups, by AWS name (the name encodes what AWS cannot change).
  const tgDiff = diffByKey(desired.targetGroups, actual.targetGroups, { desiredKey: (t) => t.name, actualKey: (t) => t.name, equal: () => true });
  const registrations: Action[] = [];
  for (const tg of tgDiff.toCreate) {
    actions.push({ op: 'createTargetGroup', tg });
    if (Object.keys(tg.attributes).length > 0) actions.push({ op: 'modifyTargetGroupAttributes', targetGroupName: tg.name, attributes: tg.attributes });
    if (desired.targets.length > 0) registrations.push({ op: 'registerTargets', targetGroupName: tg.name, ids: [...desired.targets] });
  }
  const deregistrations: Action[] = [];
  for (const { desired: tg, actual: a } of tgDiff.unchanged) {
    if (healthCheckDiffers(tg.healthCheck, a.healthCheck)) actions.push({ op: 'modifyTargetGroup', arn: a.arn, name: a.name, healthCheck: tg.healthCheck });
    const attrs = changedAttributes(tg.attributes, a.attributes);
    if (Object.keys(attrs).length > 0) actions.push({ op: 'modifyTargetGroupAttributes', targetGroupName: tg.name, attributes: attrs });
    const t = diffTags(tg.tags, a.tags);
    if (!t.empty) actions.push({ op: 'addTags', arns: [a.arn], tags: t.toAdd });
    const s = diffSets(desired.targets, a.targets);
    if (s.toAdd.length > 0) registrations.push({ op: 'registerTargets', targetGroupName: tg.name, ids: s.toAdd });
    if (s.toRemove.length > 0) deregistrations.push({ op: 'deregisterTargets', arn: a.arn, name: a.name, ids: s.toRemove });
  }

  // 4. Listeners on the kept ALB, by port.
  const onKeep = keep ? actual.listeners.filter((l) => l.loadBalancerArn === keep.arn) : [];
  const lDiff = diffByKey(desired.listeners, onKeep, { key: (l) => String(l.port), equal: (d, a) => !listenerDiffers(d, a) });
  for (const l of lDiff.toCreate) actions.push({ op: 'createListener', listener: l });
  for (const u of lDiff.toUpdate) actions.push({ op: 'modifyListener', arn: u.actual.arn, listener: u.desired });

  // 5. Rules, by (listener port, priority): priorities are stable, so a changed rule is modified in place.
  const listenerArns = new Set(onKeep.map((l) => l.arn));
  const rulesOnKeep = actual.rules.filter((r) => listenerArns.has(r.listenerArn));
  const rDiff = diffByKey(desired.rules, rulesOnKeep, { key: ruleKey, equal: (d, a) => !ruleDiffers(d, a) });
  for (const r of rDiff.toCreate) actions.push({ op: 'createRule', rule: r });
  for (const u of rDiff.toUpdate) actions.push({ op: 'modifyRule', arn: u.actual.arn, rule: u.desired });

  // 6. Registrations, then everything that goes, in reverse dependency order.
  actions.push(...registrations, ...deregistrations);
  // Rules of a listener that goes are removed with it.
  const goingListeners = new Set(lDiff.toDelete.map((l) => l.arn));
  for (const r of rDiff.toDelete) if (!goingListeners.has(r.listenerArn)) actions.push({ op: 'deleteRule', arn: r.arn, listenerPort: r.listenerPort, priority: r.priority });
  for (const l of lDiff.toDelete) actions.push({ op: 'deleteListener', arn: l.arn, port: l.port });
  for (const lb of others) actions.push({ op: 'deleteLoadBalancer', arn: lb.arn, name: lb.name, why: replacementReason(desired.loadBalancer, lb) ? 'replaced' : 'duplicate' });
  for (const tg of tgDiff.toDelete) actions.push({ op: 'deleteTargetGroup', arn: tg.arn, name: tg.name });
  if (backendDiff.toDelete.length > 0) actions.push({ op: 'revokeBackend', rules: backendDiff.toDelete });
  if (sg && ingressDiff && ingressDiff.toDelete.length > 0) actions.push({ op: 'revokeSecurityGroupIngress', groupId: sg.id, ruleIds: ingressDiff.toDelete.map((r) => r.ruleId) });
  for (const g of actual.securityGroups) if (g !== sg) actions.push({ op: 'deleteSecurityGroup', groupId: g.id, name: g.name });
  return keep ? { keep, actions } : { actions };
}

/** Everything of this owner, removed in dependency order (listeners and rules go with their ALB). */
export function planDeletion(actual: ActualState): Action[] {
  const actions: Action[] = [];
  for (const lb of actual.loadBalancers) actions.push({ op: 'deleteLoadBalancer', arn: lb.arn, name: lb.name, why: 'deleted' });
  for (const tg of actual.targetGroups) actions.push({ op: 'deleteTargetGroup', arn: tg.arn, name: tg.name });
  if (actual.backendRules.length > 0) actions.push({ op: 'revokeBackend', rules: [...actual.backendRules] });
  for (const g of actual.securityGroups) actions.push({ op: 'deleteSecurityGroup', groupId: g.id, name: g.name });
  return actions;
}

/** One line per action, for logs and Events. */
export function describeAction(a: Action): string {
  switch (a.op) {
    case 'createSecurityGroup':
      return `create security group ${a.sg.name}`;
    case 'authorizeSecurityGroupIngress':
      return `allow ${a.rules.map((r) => `tcp/${r.port} from ${r.cidr}`).join(', ')} on the ALB security group`;
    case 'authorizeBackend':
      return `allow the ALB to reach ${a.rules.map((r) => `tcp/${r.port} on ${r.groupId}`).join(', ')}`;
    case 'createLoadBalancer':
      return `create ${a.lb.scheme} ALB ${a.lb.name} in ${a.lb.subnetIds.join(', ')}`;
    case 'setSecurityGroups':
      return `set security groups of the ALB to ${a.securityGroups.join(', ')}`;
    case 'setSubnets':
      return `set subnets of the ALB to ${a.subnetIds.join(', ')}`;
    case 'modifyLoadBalancerAttributes':
      return `set ALB attributes ${Object.entries(a.attributes).map(([k, v]) => `${k}=${v}`).join(', ')}`;
    case 'addTags':
      return `tag ${a.arns.length} resource(s) with ${Object.keys(a.tags).join(', ')}`;
    case 'createTargetGroup':
      return `create target group ${a.tg.name} (${a.tg.key}, ${a.tg.protocol} ${a.tg.port})`;
    case 'modifyTargetGroup':
      return `update health check of target group ${a.name}`;
    case 'modifyTargetGroupAttributes':
      return `set attributes of target group ${a.targetGroupName}`;
    case 'createListener':
      return `create ${a.listener.protocol} listener on port ${a.listener.port}`;
    case 'modifyListener':
      return `update listener on port ${a.listener.port}`;
    case 'createRule':
      return `create rule ${a.rule.priority} on port ${a.rule.listenerPort} (${[...a.rule.hosts, ...a.rule.paths].join(' ')})`;
    case 'modifyRule':
      return `update rule ${a.rule.priority} on port ${a.rule.listenerPort}`;
    case 'registerTargets':
      return `register ${a.ids.join(', ')} in target group ${a.targetGroupName}`;
    case 'deregisterTargets':
      return `deregister ${a.ids.join(', ')} from target group ${a.name}`;
    case 'deleteRule':
      return `delete rule ${a.priority} on port ${a.listenerPort}`;
    case 'deleteListener':
      return `delete listener on port ${a.port}`;
    case 'deleteLoadBalancer':
      return `delete ALB ${a.name} (${a.why})`;
    case 'deleteTargetGroup':
      return `delete target group ${a.name}`;
    case 'revokeBackend':
      return `revoke ${a.rules.map((r) => `tcp/${r.port} on ${r.groupId}`).join(', ')}`;
    case 'revokeSecurityGroupIngress':
      return `revoke ${a.ruleIds.length} rule(s) of ${a.groupId}`;
    case 'deleteSecurityGroup':
      return `delete security group ${a.name}`;
  }
}
