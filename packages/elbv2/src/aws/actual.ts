// Reads the actual state of one owner: only what carries its owner tags, plus the rules on node
// security groups whose description names it. Load balancers and target groups are looked up by the
// ARNs recorded in status and the owner-tag inventory, then by the deterministic names, so a lost status
// never leads to a second load balancer; security groups by EC2's owner-tag filters.
import { DescribeSecurityGroupsCommand, type IpPermission } from '@aws-sdk/client-ec2';
import { describeSecurityGroupRules, describeSecurityGroups, isNotFound, parseArn, type AwsClients } from '@kube-iaas/core/aws';
import { isDescribedBy, matchesOwner, ownedByOwnerFilters, type OwnerRef } from '@kube-iaas/core/tags';
import type { ActionModel, ActualListener, ActualLoadBalancer, ActualNodeRule, ActualRule, ActualSecurityGroup, ActualState, ActualTargetGroup, Model } from '../model.ts';
import { conditionValues, type ElbAction } from './actions.ts';
import { describeLoadBalancers } from './describe.ts';
import type { ElbInventory } from './inventory.ts';
import { describeListeners, describeLoadBalancerAttributes, describeRules, describeTargetGroupAttributes, describeTargetHealth, findTargetGroups, registeredTargets, type Listener } from './reads.ts';

export interface ReadInputs {
  clients: AwsClients;
  owner: OwnerRef;
  /** What the custom resource's status recorded. */
  known?: { loadBalancerArn?: string | undefined; targetGroupArns?: readonly string[]; nodeGroupIds?: readonly string[] } | undefined;
  /** When reconciling (not deleting): names to look up and which attributes to read. */
  desired?: Model | undefined;
  /** Load balancer names to look up besides the model's (a lost status: the names under either scheme). */
  names?: readonly string[] | undefined;
  inventory?: ElbInventory | undefined;
  /** Node security groups that may hold the owner's rules (`known.nodeGroupIds` adds the recorded ones). */
  nodeSecurityGroupIds: readonly string[];
  /** Read node rules whose source is a security group too (not only CIDRs). */
  groupSourcedNodeRules?: boolean | undefined;
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

/** An action as the model writes it: target groups by name, redirect placeholders left out. */
export function toActionModel(a: ElbAction): ActionModel | undefined {
  switch (a.type) {
    case 'forward':
      return { type: 'forward', targetGroups: a.targetGroups.map((t) => ({ name: targetGroupNameOf(t.arn), weight: t.weight })) };
    case 'fixed-response': {
      const out: ActionModel = { type: 'fixed-response', statusCode: a.statusCode };
      if (a.contentType) out.contentType = a.contentType;
      if (a.messageBody !== undefined) out.messageBody = a.messageBody;
      return out;
    }
    case 'redirect': {
      const out: ActionModel = { type: 'redirect', statusCode: a.statusCode === 'HTTP_302' ? 'HTTP_302' : 'HTTP_301' };
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

/** One managed action; anything else (authenticate-*, several actions) reads as none, so the plan rewrites it. */
const singleAction = (actions: readonly ElbAction[]): ActionModel | undefined => (actions.length === 1 && actions[0] ? toActionModel(actions[0]) : undefined);
const forwardArns = (actions: readonly ElbAction[]): string[] => actions.flatMap((a) => (a.type === 'forward' ? a.targetGroups.map((t) => t.arn) : []));

async function readGroups(i: ReadInputs): Promise<ActualSecurityGroup[]> {
  const { ec2, cluster } = i.clients;
  const groups = await describeSecurityGroups(ec2, { filters: ownedByOwnerFilters(cluster, i.owner, { byUid: true }) });
  return Promise.all(
    groups.map(async (g) => {
      const ingress: ActualSecurityGroup['ingress'] = [];
      for (const r of await describeSecurityGroupRules(ec2, g.id)) {
        const cidr = r.cidrIpv4 ?? r.cidrIpv6;
        if (r.egress || !cidr || (r.protocol !== 'tcp' && r.protocol !== 'udp') || r.fromPort === undefined) continue;
        ingress.push({ id: r.id, protocol: r.protocol, fromPort: r.fromPort, toPort: r.toPort ?? r.fromPort, cidr });
      }
      return { id: g.id, name: g.name, tags: g.tags, ingress };
    }),
  );
}

async function readNodeRules(i: ReadInputs, own: readonly ActualSecurityGroup[]): Promise<ActualNodeRule[]> {
  const { ec2, cluster } = i.clients;
  const groups = new Set([...i.nodeSecurityGroupIds, ...(i.known?.nodeGroupIds ?? [])]);
  for (const g of own) groups.delete(g.id);
  const out: ActualNodeRule[] = [];
  for (const groupId of [...groups].sort()) {
    const rules = (await describeSecurityGroupRules(ec2, groupId)).filter(
      (r) => !r.egress && (r.protocol === 'tcp' || r.protocol === 'udp') && r.fromPort !== undefined && (r.cidrIpv4 ?? r.cidrIpv6 ?? (i.groupSourcedNodeRules ? r.referencedGroupId : undefined)),
    );
    const describe = rules.some((r) => r.referencedGroupId && r.description === undefined) ? await pairDescriptions(ec2, groupId) : undefined;
    for (const r of rules) {
      const description = r.description ?? describe?.(r.protocol, r.fromPort, r.referencedGroupId);
      if (!isDescribedBy(description, cluster, i.owner)) continue;
      const rule: ActualNodeRule = { id: r.id, groupId, protocol: r.protocol === 'udp' ? 'udp' : 'tcp', port: r.fromPort ?? 0 };
      const cidr = r.cidrIpv4 ?? r.cidrIpv6;
      if (cidr) rule.cidr = cidr;
      else if (r.referencedGroupId) rule.sourceGroupId = r.referencedGroupId;
      if (description) rule.description = description;
      out.push(rule);
    }
  }
  return out;
}

async function readLoadBalancers(i: ReadInputs): Promise<ActualLoadBalancer[]> {
  const { elbv2, cluster } = i.clients;
  const ours = matchesOwner(cluster, i.owner, { byUid: true });
  const arns = new Set<string>();
  if (i.known?.loadBalancerArn) arns.add(i.known.loadBalancerArn);
  for (const a of i.inventory?.loadBalancersOf(i.owner.uid) ?? []) arns.add(a);
  const found = arns.size > 0 ? await describeLoadBalancers(elbv2, { arns: [...arns] }) : [];
  const names = new Set([...(i.desired ? [i.desired.loadBalancer.name] : []), ...(i.names ?? [])]);
  const missing = [...names].filter((n) => !found.some((lb) => lb.name === n && ours(lb.tags)));
  if (missing.length > 0) found.push(...(await describeLoadBalancers(elbv2, { names: missing })).filter((lb) => !arns.has(lb.arn)));
  const desired = i.desired?.loadBalancer;
  const wantAttrs = !!desired && Object.keys(desired.attributes).length > 0;
  return Promise.all(
    found
      .filter((lb) => ours(lb.tags))
      .map(async (lb) => {
        const a: ActualLoadBalancer = {
          arn: lb.arn,
          name: lb.name,
          type: lb.type,
          scheme: lb.scheme,
          subnetIds: lb.zones.flatMap((z) => (z.subnetId ? [z.subnetId] : [])).sort(),
          securityGroupIds: [...lb.securityGroupIds].sort(),
          tags: lb.tags,
        };
        if (lb.ipAddressType) a.ipAddressType = lb.ipAddressType;
        if (lb.dnsName) a.dnsName = lb.dnsName;
        if (lb.canonicalHostedZoneId) a.canonicalHostedZoneId = lb.canonicalHostedZoneId;
        if (lb.state) a.state = lb.state;
        if (lb.createdTime) a.createdTime = lb.createdTime;
        if (wantAttrs && lb.name === desired.name) a.attributes = await describeLoadBalancerAttributes(elbv2, lb.arn);
        return a;
      }),
  );
}

function toListener(l: Listener): ActualListener {
  const a: ActualListener = { arn: l.arn, loadBalancerArn: l.loadBalancerArn, port: l.port, protocol: l.protocol, certificateArns: l.certificateArns, forwardArns: forwardArns(l.defaultActions) };
  if (l.sslPolicy) a.sslPolicy = l.sslPolicy;
  if (l.alpnPolicy) a.alpnPolicy = l.alpnPolicy;
  const action = singleAction(l.defaultActions);
  if (action) a.defaultAction = action;
  return a;
}

export async function readActual(i: ReadInputs): Promise<ActualState> {
  const { elbv2, cluster } = i.clients;
  const ours = matchesOwner(cluster, i.owner, { byUid: true });
  const groupsRead = readGroups(i);
  const nodeRulesRead = groupsRead.then((g) => readNodeRules(i, g));
  // Both reads run beside the ELBv2 ones; a failure of either is seen when awaited below.
  groupsRead.catch(() => undefined);
  nodeRulesRead.catch(() => undefined);

  const loadBalancers = await readLoadBalancers(i);
  const listeners = (await Promise.all(loadBalancers.map((lb) => describeListeners(elbv2, lb.arn)))).flat().map(toListener);
  // Only application load balancers have rules beyond the default one.
  const withRules = new Set(loadBalancers.filter((lb) => lb.type === 'application').map((lb) => lb.arn));
  const rules: ActualRule[] = [];
  for (const l of listeners) {
    if (!withRules.has(l.loadBalancerArn)) continue;
    for (const r of await describeRules(elbv2, l.arn)) {
      if (r.priority === undefined) continue;
      const a: ActualRule = { arn: r.arn, listenerArn: l.arn, listenerPort: l.port, priority: r.priority, hosts: conditionValues(r.conditions, 'host-header'), paths: conditionValues(r.conditions, 'path-pattern'), forwardArns: forwardArns(r.actions) };
      const action = singleAction(r.actions);
      if (action) a.action = action;
      rules.push(a);
    }
  }

  // Target groups: status, forwards of our listeners and rules, inventory; then the model's names.
  const tgArns = new Set<string>(i.known?.targetGroupArns ?? []);
  for (const x of [...listeners, ...rules]) for (const arn of x.forwardArns) tgArns.add(arn);
  for (const a of i.inventory?.targetGroupsOf(i.owner.uid) ?? []) tgArns.add(a);
  const found = (await findTargetGroups(elbv2, { arns: [...tgArns], names: i.desired?.targetGroups.map((t) => t.name) ?? [] })).filter((tg) => ours(tg.tags));
  const wantAttrs = i.desired?.targetGroups.some((t) => Object.keys(t.attributes).length > 0) ?? false;
  const targetGroups: ActualTargetGroup[] = await Promise.all(
    found.map(async (tg) => {
      const health = registeredTargets(await describeTargetHealth(elbv2, tg.arn));
      const a: ActualTargetGroup = { arn: tg.arn, name: tg.name, healthCheck: { ...tg.healthCheck }, tags: tg.tags, targets: health.ids, healthyTargets: health.healthy };
      if (tg.protocol) a.protocol = tg.protocol;
      if (tg.port !== undefined) a.port = tg.port;
      if (tg.vpcId) a.vpcId = tg.vpcId;
      if (wantAttrs) a.attributes = await describeTargetGroupAttributes(elbv2, tg.arn);
      return a;
    }),
  );

  const [securityGroups, nodeRules] = await Promise.all([groupsRead, nodeRulesRead]);
  return { loadBalancers, securityGroups, nodeRules, targetGroups, listeners, rules };
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
