// Reads the actual AWS state of one ApplicationLoadBalancer: only what carries its owner tags, plus the
// rules on node security groups whose description names it. Load balancers and target groups are looked
// up by the ARNs in status, then by the deterministic names, then by the owner-tag inventory, so a lost
// status never leads to a second ALB; security groups by EC2's owner-tag filters.
import { DescribeSecurityGroupsCommand, type IpPermission } from '@aws-sdk/client-ec2';
import type { ApplicationLoadBalancerStatus } from '@kube-iaas/crds';
import {
  conditionValues,
  describeListeners,
  describeLoadBalancerAttributes,
  describeLoadBalancers,
  describeRules,
  describeSecurityGroupRules,
  describeSecurityGroups,
  describeTargetGroupAttributes,
  describeTargetHealth,
  findTargetGroups,
  isDescribedBy,
  isNotFound,
  matchesOwner,
  ownedByOwnerFilters,
  parseArn,
  registeredTargets,
  type AwsClients,
  type ElbAction,
  type OwnerRef,
} from '@kube-iaas/core';
import { loadBalancerName } from '../plan/names.ts';
import type {
  ActualBackendRule,
  ActualListener,
  ActualLoadBalancer,
  ActualRule,
  ActualSecurityGroup,
  ActualState,
  ActualTargetGroup,
  DesiredState,
  HealthCheckSettings,
  RuleAction,
} from '../plan/types.ts';
import type { Inventory } from './inventory.ts';

export interface ReadInputs {
  clients: AwsClients;
  owner: OwnerRef;
  status?: ApplicationLoadBalancerStatus | undefined;
  /** When reconciling (not deleting): names to look up and which attributes to read. */
  desired?: DesiredState | undefined;
  inventory?: Inventory | undefined;
  /** Node security groups that may hold this owner's backend rules (status adds the recorded ones). */
  nodeSecurityGroupIds: readonly string[];
}

/** The target group name inside its ARN (`…:targetgroup/<name>/<id>`). */
export function targetGroupNameOf(arn: string): string {
  try {
    return parseArn(arn).resource.split('/')[1] ?? arn;
  } catch {
    return arn;
  }
}

// AWS fills the parts of a redirect that were not given with these placeholders ("keep as requested").
const REDIRECT_DEFAULTS = { protocol: '#{protocol}', port: '#{port}', host: '#{host}', path: '/#{path}', query: '#{query}' } as const;

/** An action as the planner writes it: target groups by name, redirect placeholders left out. */
export function toRuleAction(a: ElbAction): RuleAction | undefined {
  switch (a.type) {
    case 'forward':
      return { type: 'forward', targetGroups: a.targetGroups.map((t) => ({ name: targetGroupNameOf(t.arn), weight: t.weight })) };
    case 'fixed-response': {
      const out: RuleAction = { type: 'fixed-response', statusCode: a.statusCode };
      if (a.contentType) out.contentType = a.contentType;
      if (a.messageBody !== undefined) out.messageBody = a.messageBody;
      return out;
    }
    case 'redirect': {
      const out: RuleAction = { type: 'redirect', statusCode: a.statusCode === 'HTTP_302' ? 'HTTP_302' : 'HTTP_301' };
      for (const k of ['protocol', 'port', 'host', 'path', 'query'] as const) {
        const v = a[k];
        if (v !== undefined && v !== REDIRECT_DEFAULTS[k]) out[k] = v;
      }
      return out;
    }
    case 'other':
      return undefined;
  }
}

/** One managed action per rule; anything else (authenticate-*, several actions) reads as no action, so the plan rewrites it. */
const singleAction = (actions: readonly ElbAction[]): RuleAction | undefined => (actions.length === 1 && actions[0] ? toRuleAction(actions[0]) : undefined);

export async function readActual(i: ReadInputs): Promise<ActualState> {
  const { clients, owner, status, desired } = i;
  const { elbv2, ec2, cluster } = clients;
  const ours = matchesOwner(cluster, owner, { byUid: true });

  // Our security groups (EC2 filters by tag) with their ingress, and our rules on the node groups.
  const sgRead = (async (): Promise<ActualSecurityGroup[]> => {
    const groups = await describeSecurityGroups(ec2, { filters: ownedByOwnerFilters(cluster, owner, { byUid: true }) });
    return Promise.all(
      groups.map(async (g) => {
        const ingress: ActualSecurityGroup['ingress'] = [];
        for (const r of await describeSecurityGroupRules(ec2, g.id)) {
          const cidr = r.cidrIpv4 ?? r.cidrIpv6;
          if (r.egress || r.protocol !== 'tcp' || r.fromPort === undefined || !cidr) continue;
          ingress.push({ protocol: 'tcp', port: r.fromPort, cidr, ruleId: r.id });
        }
        return { id: g.id, name: g.name, tags: g.tags, ingress };
      }),
    );
  })();
  const backendRead = (async (): Promise<ActualBackendRule[]> => {
    const groups = new Set(i.nodeSecurityGroupIds);
    for (const r of status?.securityGroupRules ?? []) groups.add(r.securityGroupId);
    const out: ActualBackendRule[] = [];
    for (const groupId of [...groups].sort()) {
      const rules = (await describeSecurityGroupRules(ec2, groupId)).filter((r) => !r.egress && r.referencedGroupId && r.fromPort !== undefined);
      const describe = rules.some((r) => r.description === undefined) ? await pairDescriptions(ec2, groupId) : undefined;
      for (const r of rules) {
        const description = r.description ?? describe?.(r.protocol, r.fromPort, r.referencedGroupId);
        if (!r.referencedGroupId || r.fromPort === undefined || !isDescribedBy(description, cluster, owner)) continue;
        const rule: ActualBackendRule = { groupId, port: r.fromPort, sourceGroupId: r.referencedGroupId, ruleId: r.id };
        if (description) rule.description = description;
        out.push(rule);
      }
    }
    return out;
  })();

  // Load balancers: status and inventory ARNs, then the deterministic name(s).
  const lbArns = new Set<string>();
  if (status?.loadBalancerArn) lbArns.add(status.loadBalancerArn);
  for (const a of i.inventory?.loadBalancersOf(owner.uid) ?? []) lbArns.add(a);
  const found = lbArns.size > 0 ? await describeLoadBalancers(elbv2, { arns: [...lbArns] }) : [];
  const names = new Set<string>();
  if (desired) names.add(desired.loadBalancer.name);
  if (!desired || !status?.loadBalancerArn) {
    // Deleting without a desired state, or a lost status: also the names this owner would have had under
    // either scheme, so an ALB of the previous scheme is found (and replaced) rather than left behind.
    const base = { cluster, namespace: owner.namespace ?? '', name: owner.name, uid: owner.uid };
    for (const scheme of ['internet-facing', 'internal']) names.add(loadBalancerName({ ...base, scheme }));
    if (status?.loadBalancerName) names.add(status.loadBalancerName);
  }
  const missingNames = [...names].filter((n) => !found.some((lb) => lb.name === n && ours(lb.tags)));
  if (missingNames.length > 0) found.push(...(await describeLoadBalancers(elbv2, { names: missingNames })).filter((lb) => !lbArns.has(lb.arn)));
  const wantLbAttrs = !!desired && Object.keys(desired.loadBalancer.attributes).length > 0;
  const loadBalancers: ActualLoadBalancer[] = await Promise.all(
    found
      .filter((lb) => ours(lb.tags))
      .map(async (lb) => {
        const a: ActualLoadBalancer = {
          arn: lb.arn,
          name: lb.name,
          type: lb.type,
          scheme: lb.scheme,
          subnetIds: lb.zones.flatMap((z) => (z.subnetId ? [z.subnetId] : [])).sort(),
          securityGroups: [...lb.securityGroupIds].sort(),
          tags: lb.tags,
        };
        if (lb.ipAddressType) a.ipAddressType = lb.ipAddressType;
        if (lb.dnsName) a.dnsName = lb.dnsName;
        if (lb.canonicalHostedZoneId) a.canonicalHostedZoneId = lb.canonicalHostedZoneId;
        if (lb.state) a.state = lb.state;
        if (lb.createdTime) a.createdTime = lb.createdTime;
        if (wantLbAttrs && lb.name === desired.loadBalancer.name) a.attributes = await describeLoadBalancerAttributes(elbv2, lb.arn);
        return a;
      }),
  );

  // Listeners and their rules.
  const coreListeners = (await Promise.all(loadBalancers.map((lb) => describeListeners(elbv2, lb.arn)))).flat();
  const coreRules = await Promise.all(coreListeners.map((l) => describeRules(elbv2, l.arn)));
  const listeners: ActualListener[] = coreListeners.map((l) => {
    const a: ActualListener = { arn: l.arn, loadBalancerArn: l.loadBalancerArn, port: l.port, protocol: l.protocol, certificateArns: l.certificateArns };
    if (l.sslPolicy) a.sslPolicy = l.sslPolicy;
    const action = singleAction(l.defaultActions);
    if (action) a.defaultAction = action;
    return a;
  });
  const rules: ActualRule[] = [];
  coreListeners.forEach((l, n) => {
    for (const r of coreRules[n] ?? []) {
      if (r.priority === undefined) continue;
      const a: ActualRule = { arn: r.arn, listenerArn: l.arn, listenerPort: l.port, priority: r.priority, hosts: conditionValues(r.conditions, 'host-header'), paths: conditionValues(r.conditions, 'path-pattern') };
      const action = singleAction(r.actions);
      if (action) a.action = action;
      rules.push(a);
    }
  });

  // Target groups: status, forwards of our listeners and rules, inventory; then the desired names.
  const tgArns = new Set<string>();
  for (const t of status?.targetGroups ?? []) if (t.targetGroupArn) tgArns.add(t.targetGroupArn);
  for (const l of coreListeners) for (const a of l.defaultActions) if (a.type === 'forward') for (const t of a.targetGroups) tgArns.add(t.arn);
  for (const rs of coreRules) for (const r of rs) for (const a of r.actions) if (a.type === 'forward') for (const t of a.targetGroups) tgArns.add(t.arn);
  for (const a of i.inventory?.targetGroupsOf(owner.uid) ?? []) tgArns.add(a);
  const tgs = (await findTargetGroups(elbv2, { arns: [...tgArns], names: desired?.targetGroups.map((t) => t.name) ?? [] })).filter((tg) => ours(tg.tags));
  const wantTgAttrs = desired?.targetGroups.some((t) => Object.keys(t.attributes).length > 0) ?? false;
  const targetGroups: ActualTargetGroup[] = await Promise.all(
    tgs.map(async (tg) => {
      const { protocol, ...hc } = tg.healthCheck;
      const healthCheck: Partial<HealthCheckSettings> = { ...hc };
      if (protocol === 'HTTP' || protocol === 'HTTPS') healthCheck.protocol = protocol;
      const a: ActualTargetGroup = { arn: tg.arn, name: tg.name, healthCheck, tags: tg.tags, targets: registeredTargets(await describeTargetHealth(elbv2, tg.arn)).ids };
      if (tg.protocol) a.protocol = tg.protocol;
      if (tg.port !== undefined) a.port = tg.port;
      if (wantTgAttrs) a.attributes = await describeTargetGroupAttributes(elbv2, tg.arn);
      return a;
    }),
  );

  const [securityGroups, backendRules] = await Promise.all([sgRead, backendRead]);
  return { loadBalancers, securityGroups, backendRules, targetGroups, listeners, rules };
}

/**
 * Descriptions of a group's source-group rules from DescribeSecurityGroups, for when
 * DescribeSecurityGroupRules leaves them out (moto does for group-referencing rules).
 */
async function pairDescriptions(ec2: AwsClients['ec2'], groupId: string): Promise<(protocol: string, port: number | undefined, source: string | undefined) => string | undefined> {
  let perms: IpPermission[] = [];
  try {
    perms = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }))).SecurityGroups?.[0]?.IpPermissions ?? [];
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  return (protocol, port, source) =>
    perms.filter((p) => p.IpProtocol === protocol && p.FromPort === port).flatMap((p) => p.UserIdGroupPairs ?? []).find((g) => g.GroupId === source)?.Description;
}
