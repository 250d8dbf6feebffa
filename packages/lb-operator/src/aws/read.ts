// Reads the actual AWS state of one NetworkLoadBalancer: only what carries its owner tags (or, for
// security-group rules, a description naming it). Lookups go by the ARNs in status, then by the
// deterministic names, then by the owner-tag inventory, so a lost status never leads to a second NLB.
import type { NetworkLoadBalancerStatus } from '@kube-iaas/crds';
import {
  describeLoadBalancers,
  describeSecurityGroupRules,
  describeSecurityGroups,
  isDescribedBy,
  matchesOwner,
  ownedByOwnerFilters,
  type AwsClients,
  type OwnerRef,
} from '@kube-iaas/core';
import type { ActualFrontendGroup, ActualLoadBalancer, ActualRule, ActualState, ActualTargetGroup, DesiredState } from '../plan/types.ts';
import { describeListeners, describeLoadBalancerAttributes, describeTargetGroupAttributes, describeTargetGroupsFull, describeTargetHealth } from './elbv2.ts';
import type { Inventory } from './inventory.ts';

export interface ReadInputs {
  clients: AwsClients;
  owner: OwnerRef;
  status?: NetworkLoadBalancerStatus | undefined;
  /** When reconciling (not deleting): names to look up and which attributes to read. */
  desired?: DesiredState | undefined;
  inventory?: Inventory | undefined;
  /** Groups that may hold this owner's rules (the desired ones; status adds the recorded ones). */
  securityGroupIds: readonly string[];
}

export async function readActual(i: ReadInputs): Promise<ActualState> {
  const { clients, owner, status, desired } = i;
  const { elbv2, ec2, cluster } = clients;
  const ours = matchesOwner(cluster, owner, { byUid: true });

  // Load balancers.
  const lbArns = new Set<string>();
  if (status?.loadBalancerArn) lbArns.add(status.loadBalancerArn);
  for (const a of i.inventory?.loadBalancersOf(owner.uid) ?? []) lbArns.add(a);
  const found = lbArns.size > 0 ? await describeLoadBalancers(elbv2, { arns: [...lbArns] }) : [];
  if (desired && !found.some((lb) => lb.name === desired.loadBalancer.name && ours(lb.tags))) {
    found.push(...(await describeLoadBalancers(elbv2, { names: [desired.loadBalancer.name] })).filter((lb) => !lbArns.has(lb.arn)));
  }
  const loadBalancers: ActualLoadBalancer[] = [];
  for (const lb of found) {
    if (!ours(lb.tags)) continue;
    const a: ActualLoadBalancer = { arn: lb.arn, name: lb.name, type: lb.type, scheme: lb.scheme, subnetIds: lb.zones.flatMap((z) => (z.subnetId ? [z.subnetId] : [])).sort(), securityGroupIds: [...lb.securityGroupIds].sort(), tags: lb.tags };
    if (lb.ipAddressType) a.ipAddressType = lb.ipAddressType;
    if (lb.dnsName) a.dnsName = lb.dnsName;
    if (lb.canonicalHostedZoneId) a.canonicalHostedZoneId = lb.canonicalHostedZoneId;
    if (lb.state) a.state = lb.state;
    if (lb.createdTime) a.createdTime = lb.createdTime;
    if (desired && Object.keys(desired.loadBalancer.attributes).length > 0 && lb.name === desired.loadBalancer.name) {
      a.attributes = await describeLoadBalancerAttributes(elbv2, lb.arn);
    }
    loadBalancers.push(a);
  }

  // Listeners of those load balancers.
  const listeners = (await Promise.all(loadBalancers.map((lb) => describeListeners(elbv2, lb.arn)))).flat();

  // Target groups.
  const tgArns = new Set<string>();
  for (const t of status?.targetGroups ?? []) if (t.targetGroupArn) tgArns.add(t.targetGroupArn);
  for (const l of listeners) if (l.targetGroupArn) tgArns.add(l.targetGroupArn);
  for (const a of i.inventory?.targetGroupsOf(owner.uid) ?? []) tgArns.add(a);
  const full = await describeTargetGroupsFull(elbv2, { arns: [...tgArns], names: desired?.targetGroups.map((t) => t.name) ?? [] });
  const tgAttrsWanted = desired?.targetGroups.some((t) => Object.keys(t.attributes).length > 0) ?? false;
  const targetGroups: ActualTargetGroup[] = await Promise.all(
    full
      .filter((tg) => ours(tg.tags))
      .map(async (tg) => {
        const health = await describeTargetHealth(elbv2, tg.arn);
        const a: ActualTargetGroup = { arn: tg.arn, name: tg.name, healthCheck: tg.healthCheck, tags: tg.tags, targets: health.ids, healthyTargets: health.healthy };
        if (tg.protocol) a.protocol = tg.protocol;
        if (tg.port !== undefined) a.port = tg.port;
        if (tg.vpcId) a.vpcId = tg.vpcId;
        if (tgAttrsWanted) a.attributes = await describeTargetGroupAttributes(elbv2, tg.arn);
        return a;
      }),
  );

  // The frontend group(s): security groups carrying this owner's tags, with their client rules.
  const frontendGroups: ActualFrontendGroup[] = [];
  for (const g of await describeSecurityGroups(ec2, { filters: ownedByOwnerFilters(cluster, owner, { byUid: true }) })) {
    const groupRules: ActualFrontendGroup['rules'] = [];
    for (const r of await describeSecurityGroupRules(ec2, g.id)) {
      const cidr = r.cidrIpv4 ?? r.cidrIpv6;
      if (r.egress || !cidr || (r.protocol !== 'tcp' && r.protocol !== 'udp') || r.fromPort === undefined) continue;
      groupRules.push({ id: r.id, protocol: r.protocol, fromPort: r.fromPort, toPort: r.toPort ?? r.fromPort, cidr });
    }
    frontendGroups.push({ id: g.id, name: g.name, rules: groupRules });
  }

  // Rules described with this owner on the node groups (status lists the frontend group's too).
  const groups = new Set(i.securityGroupIds);
  for (const r of status?.securityGroupRules ?? []) groups.add(r.securityGroupId);
  for (const g of frontendGroups) groups.delete(g.id);
  const rules: ActualRule[] = [];
  for (const groupId of [...groups].sort()) {
    for (const r of await describeSecurityGroupRules(ec2, groupId)) {
      if (r.egress || !isDescribedBy(r.description, cluster, owner)) continue;
      const cidr = r.cidrIpv4 ?? r.cidrIpv6;
      if (!cidr || (r.protocol !== 'tcp' && r.protocol !== 'udp') || r.fromPort === undefined) continue;
      const rule: ActualRule = { id: r.id, groupId, protocol: r.protocol, port: r.fromPort, cidr };
      if (r.description) rule.description = r.description;
      rules.push(rule);
    }
  }

  return { loadBalancers, listeners, targetGroups, rules, frontendGroups };
}
