// Pure: the observed part of a NetworkLoadBalancer's status, from the desired state, what was read and
// what the plan's calls returned.
import { loadBalancerStatusFields } from '@kube-iaas/core';
import type { NetworkLoadBalancerStatus } from '@kube-iaas/crds';
import type { ActualFrontendRule, ActualLoadBalancer, ActualRule, ActualState, DesiredState } from './types.ts';

export interface Applied {
  loadBalancer?: { arn: string; name: string; scheme: string; dnsName?: string; canonicalHostedZoneId?: string; state?: string; subnetIds: string[] } | undefined;
  targetGroupArns: ReadonlyMap<string, string>;
  listenerArns: ReadonlyMap<number, string>;
  rules: readonly ActualRule[];
  frontendGroupId?: string | undefined;
  frontendRules?: readonly ActualFrontendRule[];
}

export type ObservedStatus = Omit<NetworkLoadBalancerStatus, 'conditions' | 'observedGeneration'>;

export function observedStatus(desired: DesiredState, actual: ActualState, keep: ActualLoadBalancer | undefined, applied: Applied): ObservedStatus {
  const lb = applied.loadBalancer ?? keep;
  const out: ObservedStatus = lb ? loadBalancerStatusFields(lb) : {};
  const tgByName = new Map(actual.targetGroups.map((t) => [t.name, t]));
  out.listeners = desired.listeners.map((l) => {
    const s: NonNullable<ObservedStatus['listeners']>[number] = { port: l.port, protocol: l.protocol };
    const la = applied.listenerArns.get(l.port);
    if (la) s.listenerArn = la;
    const ta = applied.targetGroupArns.get(l.targetGroupName);
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
  const frontendGroupId = applied.frontendGroupId;
  const frontend = frontendGroupId ? (applied.frontendRules ?? []).map((r) => ({ groupId: frontendGroupId, id: r.id, description: desired.ruleDescription })) : [];
  out.securityGroupRules = [...applied.rules, ...frontend]
    .sort((a, b) => (a.id < b.id ? -1 : 1))
    .map((r) => ({ securityGroupId: r.groupId, ruleId: r.id, ...(r.description ? { description: r.description } : {}) }));
  return out;
}
