// Pure: the observed part of a NetworkLoadBalancer's status, from the desired state, what was read and
// what the plan's calls returned.
import type { NetworkLoadBalancerStatus } from '@kube-iaas/crds';
import { loadBalancerStatusFields, type ActualLoadBalancer, type ApplyResult } from '@kube-iaas/elbv2';
import type { ActualState, DesiredState } from './types.ts';

export type Applied = Pick<ApplyResult, 'loadBalancer' | 'targetGroupArns' | 'listenerArns' | 'nodeRules' | 'securityGroupId' | 'securityGroupRules'>;

export type ObservedStatus = Omit<NetworkLoadBalancerStatus, 'conditions' | 'observedGeneration'>;

const forwardTo = (l: DesiredState['listeners'][number]) => (l.defaultAction.type === 'forward' ? l.defaultAction.targetGroups[0]?.name : undefined);

export function observedStatus(desired: DesiredState, actual: ActualState, keep: ActualLoadBalancer | undefined, applied: Applied): ObservedStatus {
  const lb = applied.loadBalancer ?? keep;
  const out: ObservedStatus = lb ? loadBalancerStatusFields(lb) : {};
  const tgByName = new Map(actual.targetGroups.map((t) => [t.name, t]));
  out.listeners = desired.listeners.map((l) => {
    const s: NonNullable<ObservedStatus['listeners']>[number] = { port: l.port, protocol: l.protocol };
    const la = applied.listenerArns.get(l.port);
    if (la) s.listenerArn = la;
    const tg = forwardTo(l);
    const ta = tg ? applied.targetGroupArns.get(tg) : undefined;
    if (ta) s.targetGroupArn = ta;
    return s;
  });
  out.targetGroups = desired.targetGroups.map((tg) => {
    const s: NonNullable<ObservedStatus['targetGroups']>[number] = {
      listenerPort: tg.listenerPort,
      targetGroupName: tg.name,
      protocol: tg.protocol,
      targetPort: tg.port,
      targets: desired.targets.length,
      healthyTargets: Math.min(tgByName.get(tg.name)?.healthyTargets ?? 0, desired.targets.length),
    };
    const ta = applied.targetGroupArns.get(tg.name);
    if (ta) s.targetGroupArn = ta;
    return s;
  });
  // Rules on the node groups (an NLB without security groups) and on the NLB's own frontend group.
  const groupId = applied.securityGroupId;
  const frontend = groupId ? applied.securityGroupRules.map((r) => ({ groupId, id: r.id, description: desired.ruleDescription })) : [];
  out.securityGroupRules = [...applied.nodeRules, ...frontend]
    .sort((a, b) => (a.id < b.id ? -1 : 1))
    .map((r) => ({ securityGroupId: r.groupId, ruleId: r.id, ...(r.description ? { description: r.description } : {}) }));
  return out;
}
