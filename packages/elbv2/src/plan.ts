// Pure: the fewest changes that turn the actual state into the model, in dependency order. Creates and
// updates first — security group and its rules, node rules, load balancer, target groups, listeners,
// rules, registrations — then what goes, in reverse: deregistrations, rules, listeners, replaced load
// balancers, target groups, node rules, group rules, groups. Traffic moves before anything is taken away.
import type { Action } from './changes.ts';
import { diffListeners } from './diff/listeners.ts';
import { diffLoadBalancer } from './diff/load-balancer.ts';
import { diffNodeRules } from './diff/node-rules.ts';
import { diffSecurityGroup, unusedGroups } from './diff/security-group.ts';
import { diffTargetGroups } from './diff/target-groups.ts';
import { OWN_GROUP, type ActualLoadBalancer, type ActualSecurityGroup, type ActualState, type Model } from './model.ts';

export interface Plan {
  /** The load balancer that stays (undefined: the plan creates one). */
  keep?: ActualLoadBalancer;
  /** The load balancer's own group that stays (undefined: none, or the plan creates it). */
  group?: ActualSecurityGroup;
  actions: Action[];
}

export function planChanges(desired: Model, actual: ActualState): Plan {
  const sg = diffSecurityGroup(desired.securityGroup, actual.securityGroups);
  const ownId = sg.groupId ?? OWN_GROUP;
  const nodeRules = diffNodeRules(desired.nodeRules, actual.nodeRules, desired.ruleDescription, ownId);
  const groups = desired.loadBalancer.securityGroups.map((g) => (g === OWN_GROUP ? ownId : g));
  const lb = diffLoadBalancer(desired.loadBalancer, groups, actual.loadBalancers);
  const keep = lb.keep;
  const tgs = diffTargetGroups(desired.targetGroups, actual.targetGroups, desired.targets);
  const onKeep = keep ? actual.listeners.filter((l) => l.loadBalancerArn === keep.arn) : [];
  const listeners = diffListeners(desired, onKeep, actual.rules);
  const actions: Action[] = [
    ...sg.apply,
    ...nodeRules.authorize,
    ...lb.apply,
    ...tgs.apply,
    ...listeners.apply,
    ...tgs.register,
    ...tgs.deregister,
    ...listeners.remove,
    ...lb.remove,
    ...tgs.remove,
    ...nodeRules.revoke,
    ...sg.revoke,
    // The load balancers deleted above let go of their groups; the kept one holds the model's.
    ...unusedGroups(actual.securityGroups, sg.keep, keep ? groups : []),
  ];
  return { ...(keep ? { keep } : {}), ...(sg.keep ? { group: sg.keep } : {}), actions };
}

/** Everything of the owner, removed in dependency order (listeners and rules go with their load balancer). */
export function planDeletion(actual: ActualState): Action[] {
  const actions: Action[] = [];
  for (const lb of actual.loadBalancers) actions.push({ op: 'deleteLoadBalancer', arn: lb.arn, name: lb.name, why: 'deleted' });
  for (const tg of actual.targetGroups) actions.push({ op: 'deleteTargetGroup', arn: tg.arn, name: tg.name });
  if (actual.nodeRules.length > 0) actions.push({ op: 'revokeNodeRules', rules: [...actual.nodeRules] });
  // Groups last: AWS frees one only once its load balancer is gone.
  for (const g of actual.securityGroups) actions.push({ op: 'deleteSecurityGroup', groupId: g.id, name: g.name });
  return actions;
}
