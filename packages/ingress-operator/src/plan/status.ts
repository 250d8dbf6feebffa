// Pure: the observed part of an ApplicationLoadBalancer's status, from the desired state and the actual
// state read after the plan ran (only read again when something changed).
import type { ApplicationLoadBalancerStatus } from '@kube-iaas/crds';
import { loadBalancerStatusFields, pickGroup } from '@kube-iaas/elbv2';
import type { ActualLoadBalancer, ActualState, DesiredState } from './types.ts';

export type ObservedStatus = Omit<ApplicationLoadBalancerStatus, 'conditions' | 'observedGeneration' | 'ingresses'>;

/** The ALB that serves the desired state: the one with its name, else the oldest. */
export function servingLoadBalancer(desired: DesiredState, actual: ActualState): ActualLoadBalancer | undefined {
  const named = actual.loadBalancers.filter((lb) => lb.name === desired.loadBalancer.name);
  const pool = named.length > 0 ? named : actual.loadBalancers;
  return [...pool].sort((a, b) => (a.createdTime?.getTime() ?? 0) - (b.createdTime?.getTime() ?? 0) || (a.arn < b.arn ? -1 : 1))[0];
}

export function observedStatus(desired: DesiredState, actual: ActualState): ObservedStatus {
  const lb = servingLoadBalancer(desired, actual);
  const out: ObservedStatus = lb ? loadBalancerStatusFields(lb) : {};
  const sg = desired.securityGroup ? pickGroup(desired.securityGroup, actual.securityGroups) : undefined;
  if (sg) out.securityGroupId = sg.id;
  const listeners = lb ? actual.listeners.filter((l) => l.loadBalancerArn === lb.arn) : [];
  out.listeners = desired.listeners.map((l) => {
    const a = listeners.find((x) => x.port === l.port);
    return { port: l.port, protocol: l.protocol, ...(a ? { listenerArn: a.arn } : {}) };
  });
  const listenerArns = new Set(listeners.map((l) => l.arn));
  const rules = actual.rules.filter((r) => listenerArns.has(r.listenerArn));
  out.rules = desired.rules.map((r) => {
    const a = rules.find((x) => x.listenerPort === r.listenerPort && x.priority === r.priority);
    return { listenerPort: r.listenerPort, priority: r.priority, ...(a ? { ruleArn: a.arn } : {}) };
  });
  const wanted = new Set(desired.targets);
  out.targetGroups = desired.targetGroups.map((tg) => {
    const a = actual.targetGroups.find((x) => x.name === tg.name);
    return {
      name: tg.key,
      targetGroupName: tg.name,
      targetPort: tg.port,
      targets: a ? a.targets.filter((t) => wanted.has(t)).length : 0,
      ...(a ? { targetGroupArn: a.arn } : {}),
    };
  });
  out.securityGroupRules = [...actual.nodeRules]
    .sort((a, b) => (a.id < b.id ? -1 : 1))
    .map((r) => ({ securityGroupId: r.groupId, ruleId: r.id, ...(r.description ? { description: r.description } : {}) }));
  return out;
}

/** True when the ALB is up and everything desired is in place. */
export function isComplete(desired: DesiredState, s: ObservedStatus): boolean {
  const active = !s.state || s.state === 'active';
  return (
    active &&
    !!s.loadBalancerArn &&
    (s.listeners ?? []).every((l) => !!l.listenerArn) &&
    (s.rules ?? []).every((r) => !!r.ruleArn) &&
    (s.targetGroups ?? []).every((t) => !!t.targetGroupArn && t.targets === desired.targets.length)
  );
}
