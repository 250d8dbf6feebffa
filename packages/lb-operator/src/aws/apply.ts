// Executes a plan through core's guarded clients, inside the owner's guard scope: every create carries
// the owner tags, every change is checked against the resource's tags, and rules added to the node
// security group carry the owner's description.
import {
  AddListenerCertificatesCommand,
  AddTagsCommand,
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteListenerCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DeregisterTargetsCommand,
  ModifyListenerCommand,
  ModifyLoadBalancerAttributesCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  RegisterTargetsCommand,
  SetIpAddressTypeCommand,
  SetSecurityGroupsCommand,
  SetSubnetsCommand,
  type Action as ElbAction,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  RevokeSecurityGroupIngressCommand,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import { classifyAwsError, isNotFound, toElbTags, toTagSpecifications, type AwsClients, type OwnerRef } from '@kube-iaas/core';
import type { Action, ActualFrontendRule, ActualRule, ActualState, DesiredListener, FrontendRule, HealthCheckSettings, RuleSpec } from '../plan/types.ts';
import type { Inventory } from './inventory.ts';

export interface CreatedLoadBalancer {
  arn: string;
  name: string;
  scheme: string;
  dnsName?: string;
  canonicalHostedZoneId?: string;
  state?: string;
  subnetIds: string[];
}

/** What the calls produced, for status. */
export interface ApplyResult {
  loadBalancer?: CreatedLoadBalancer;
  /** Target group ARNs by name: the actual ones and the created ones. */
  targetGroupArns: Map<string, string>;
  /** Listener ARNs by port on the kept or created NLB. */
  listenerArns: Map<number, string>;
  /** Rules of this owner on the node groups after the plan ran. */
  rules: ActualRule[];
  /** The frontend group (kept or created) and its rules after the plan ran. */
  frontendGroupId?: string;
  frontendRules: ActualFrontendRule[];
  /** How many calls changed something. */
  calls: number;
  /**
   * Adding security-group rules failed (for example the group's rule quota is reached). The rest of the
   * plan still ran: the NLB exists and serves what the rules allow; the caller reports and retries.
   */
  ruleError?: unknown;
}

export interface ApplyContext {
  clients: AwsClients;
  owner: OwnerRef;
  actual: ActualState;
  /** The load balancer that stays, if one does. */
  keepArn?: string | undefined;
  /** The frontend group that stays, if one does. */
  frontendGroupId?: string | undefined;
  inventory?: Inventory | undefined;
  /** After each successful action (Events, logs). */
  onApplied?: (a: Action) => void;
}

function hcInput(hc: HealthCheckSettings) {
  return {
    HealthCheckProtocol: hc.protocol,
    HealthCheckPort: hc.port,
    HealthCheckIntervalSeconds: hc.intervalSeconds,
    HealthCheckTimeoutSeconds: hc.timeoutSeconds,
    HealthyThresholdCount: hc.healthyThreshold,
    UnhealthyThresholdCount: hc.unhealthyThreshold,
    ...(hc.path ? { HealthCheckPath: hc.path } : {}),
    ...(hc.successCodes ? { Matcher: { HttpCode: hc.successCodes } } : {}),
  };
}

function attrs(m: Record<string, string>) {
  return Object.entries(m).map(([Key, Value]) => ({ Key, Value }));
}

function permission(r: RuleSpec, description: string): IpPermission {
  const range = r.cidr.includes(':') ? { Ipv6Ranges: [{ CidrIpv6: r.cidr, Description: description }] } : { IpRanges: [{ CidrIp: r.cidr, Description: description }] };
  return { IpProtocol: r.protocol, FromPort: r.port, ToPort: r.port, ...range };
}

function frontendPermission(r: FrontendRule, description: string): IpPermission {
  const range = r.cidr.includes(':') ? { Ipv6Ranges: [{ CidrIpv6: r.cidr, Description: description }] } : { IpRanges: [{ CidrIp: r.cidr, Description: description }] };
  return { IpProtocol: r.protocol, FromPort: r.fromPort, ToPort: r.toPort, ...range };
}

const isDuplicateRule = (e: unknown) => classifyAwsError(e).code === 'InvalidPermission.Duplicate';

/**
 * Runs `actions` in order. Inside the owner's guard scope by default; `ownerScope: false` for the orphan
 * sweep, where the guard still demands each resource be owned by this cluster.
 */
export async function applyPlan(ctx: ApplyContext, actions: readonly Action[], opts: { ownerScope?: boolean } = {}): Promise<ApplyResult> {
  const { clients, owner } = ctx;
  const { elbv2, ec2 } = clients;
  const keptFrontend = ctx.actual.frontendGroups.find((g) => g.id === ctx.frontendGroupId);
  const result: ApplyResult = {
    targetGroupArns: new Map(ctx.actual.targetGroups.map((t) => [t.name, t.arn])),
    listenerArns: new Map(),
    rules: [...ctx.actual.rules],
    ...(keptFrontend ? { frontendGroupId: keptFrontend.id } : {}),
    frontendRules: [...(keptFrontend?.rules ?? [])],
    calls: 0,
  };
  for (const l of ctx.actual.listeners) if (l.loadBalancerArn === ctx.keepArn) result.listenerArns.set(l.port, l.arn);
  const lbArn = (): string => {
    const arn = result.loadBalancer?.arn ?? ctx.keepArn;
    if (!arn) throw new Error('plan needs a load balancer before it has one');
    return arn;
  };
  const tgArn = (name: string): string => {
    const arn = result.targetGroupArns.get(name);
    if (!arn) throw new Error(`target group ${name} is neither found nor created`);
    return arn;
  };
  const frontendId = (): string => {
    if (!result.frontendGroupId) throw new Error('plan needs a frontend security group before it has one');
    return result.frontendGroupId;
  };
  const listenerInput = (l: DesiredListener) => {
    const defaultActions: ElbAction[] = [{ Type: 'forward', TargetGroupArn: tgArn(l.targetGroupName) }];
    return {
      Port: l.port,
      Protocol: l.protocol,
      DefaultActions: defaultActions,
      ...(l.protocol === 'TLS' && l.certificateArns?.[0] ? { Certificates: [{ CertificateArn: l.certificateArns[0] }] } : {}),
      ...(l.protocol === 'TLS' && l.sslPolicy ? { SslPolicy: l.sslPolicy } : {}),
      ...(l.protocol === 'TLS' && l.alpnPolicy ? { AlpnPolicy: [l.alpnPolicy] } : {}),
    };
  };

  const run = async (a: Action): Promise<void> => {
    switch (a.op) {
      case 'createLoadBalancer': {
        // Security groups can only be given to an NLB at creation; later changes need it created with some.
        const groups = a.lb.backendGroupId ? { SecurityGroups: [frontendId(), a.lb.backendGroupId] } : {};
        const out = await elbv2.send(
          new CreateLoadBalancerCommand({ Name: a.lb.name, Type: 'network', Scheme: a.lb.scheme, IpAddressType: a.lb.ipAddressType, Subnets: a.lb.subnetIds, ...groups, Tags: toElbTags(a.lb.tags) }),
        );
        const lb = out.LoadBalancers?.[0];
        if (!lb?.LoadBalancerArn) throw new Error('CreateLoadBalancer returned no load balancer');
        ctx.inventory?.remember(owner.uid, 'loadbalancer', lb.LoadBalancerArn);
        result.loadBalancer = {
          arn: lb.LoadBalancerArn,
          name: lb.LoadBalancerName ?? a.lb.name,
          scheme: lb.Scheme ?? a.lb.scheme,
          subnetIds: (lb.AvailabilityZones ?? []).flatMap((z) => (z.SubnetId ? [z.SubnetId] : [])).sort(),
          ...(lb.DNSName ? { dnsName: lb.DNSName } : {}),
          ...(lb.CanonicalHostedZoneId ? { canonicalHostedZoneId: lb.CanonicalHostedZoneId } : {}),
          ...(lb.State?.Code ? { state: lb.State.Code } : {}),
        };
        result.listenerArns.clear();
        return;
      }
      case 'deleteLoadBalancer':
        try {
          await elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: a.arn }));
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
        ctx.inventory?.forget(a.arn);
        return;
      case 'setSubnets':
        await elbv2.send(new SetSubnetsCommand({ LoadBalancerArn: a.arn, Subnets: a.subnetIds }));
        return;
      case 'setIpAddressType':
        await elbv2.send(new SetIpAddressTypeCommand({ LoadBalancerArn: a.arn, IpAddressType: a.ipAddressType as 'ipv4' | 'dualstack' }));
        return;
      case 'modifyLoadBalancerAttributes':
        await elbv2.send(new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: a.arn || lbArn(), Attributes: attrs(a.attributes) }));
        return;
      case 'addTags':
        await elbv2.send(new AddTagsCommand({ ResourceArns: a.arns, Tags: toElbTags(a.tags) }));
        return;
      case 'createTargetGroup': {
        const out = await elbv2.send(
          new CreateTargetGroupCommand({ Name: a.tg.name, Protocol: a.tg.protocol, Port: a.tg.port, VpcId: a.tg.vpcId, TargetType: 'instance', ...hcInput(a.tg.healthCheck), Tags: toElbTags(a.tg.tags) }),
        );
        const arn = out.TargetGroups?.[0]?.TargetGroupArn;
        if (!arn) throw new Error('CreateTargetGroup returned no target group');
        ctx.inventory?.remember(owner.uid, 'targetgroup', arn);
        result.targetGroupArns.set(a.tg.name, arn);
        return;
      }
      case 'modifyTargetGroup':
        await elbv2.send(new ModifyTargetGroupCommand({ TargetGroupArn: a.arn, ...hcInput(a.healthCheck) }));
        return;
      case 'modifyTargetGroupAttributes':
        await elbv2.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: tgArn(a.targetGroupName), Attributes: attrs(a.attributes) }));
        return;
      case 'registerTargets':
        await elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: tgArn(a.targetGroupName), Targets: a.ids.map((Id) => ({ Id })) }));
        return;
      case 'deregisterTargets':
        await elbv2.send(new DeregisterTargetsCommand({ TargetGroupArn: a.arn, Targets: a.ids.map((Id) => ({ Id })) }));
        return;
      case 'authorizeIngress': {
        const byGroup = new Map<string, RuleSpec[]>();
        for (const r of a.rules) byGroup.set(r.groupId, [...(byGroup.get(r.groupId) ?? []), r]);
        for (const [groupId, rules] of byGroup) {
          const authorize = async (rs: RuleSpec[]) => {
            const out = await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: rs.map((r) => permission(r, a.description)) }));
            for (const sr of out.SecurityGroupRules ?? []) {
              const cidr = sr.CidrIpv4 ?? sr.CidrIpv6;
              if (!sr.SecurityGroupRuleId || !cidr) continue;
              result.rules.push({ id: sr.SecurityGroupRuleId, groupId, protocol: (sr.IpProtocol ?? 'tcp') as 'tcp' | 'udp', port: sr.FromPort ?? 0, cidr, description: a.description });
            }
          };
          try {
            await authorize(rules);
          } catch (e) {
            if (!isDuplicateRule(e)) {
              result.ruleError = e;
              continue;
            }
            // Someone else's identical rule already allows part of it: add the rest one by one.
            for (const r of rules) {
              try {
                await authorize([r]);
              } catch (e2) {
                if (!isDuplicateRule(e2)) {
                  result.ruleError = e2;
                  break;
                }
              }
            }
          }
        }
        return;
      }
      case 'revokeIngress': {
        const byGroup = new Map<string, ActualRule[]>();
        for (const r of a.rules) byGroup.set(r.groupId, [...(byGroup.get(r.groupId) ?? []), r]);
        for (const [groupId, rules] of byGroup) {
          try {
            await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, SecurityGroupRuleIds: rules.map((r) => r.id) }));
          } catch (e) {
            if (!isNotFound(e)) throw e;
          }
        }
        const gone = new Set(a.rules.map((r) => r.id));
        result.rules = result.rules.filter((r) => !gone.has(r.id));
        return;
      }
      case 'createSecurityGroup': {
        const out = await ec2.send(
          new CreateSecurityGroupCommand({ GroupName: a.group.name, Description: a.group.description, VpcId: a.group.vpcId, TagSpecifications: toTagSpecifications('security-group', a.group.tags) }),
        );
        if (!out.GroupId) throw new Error('CreateSecurityGroup returned no group');
        result.frontendGroupId = out.GroupId;
        result.frontendRules = [];
        return;
      }
      case 'authorizeFrontend': {
        const groupId = a.groupId ?? frontendId();
        try {
          const out = await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: a.rules.map((r) => frontendPermission(r, a.description)) }));
          for (const sr of out.SecurityGroupRules ?? []) {
            const cidr = sr.CidrIpv4 ?? sr.CidrIpv6;
            if (!sr.SecurityGroupRuleId || !cidr) continue;
            result.frontendRules.push({ id: sr.SecurityGroupRuleId, protocol: (sr.IpProtocol ?? 'tcp') as 'tcp' | 'udp', fromPort: sr.FromPort ?? 0, toPort: sr.ToPort ?? 0, cidr });
          }
        } catch (e) {
          // The group is this load balancer's own: a quota error here hurts no one else.
          result.ruleError = e;
        }
        return;
      }
      case 'revokeFrontend': {
        try {
          await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: a.groupId, SecurityGroupRuleIds: a.rules.map((r) => r.id) }));
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
        const gone = new Set(a.rules.map((r) => r.id));
        result.frontendRules = result.frontendRules.filter((r) => !gone.has(r.id));
        return;
      }
      case 'setSecurityGroups':
        await elbv2.send(new SetSecurityGroupsCommand({ LoadBalancerArn: a.arn, SecurityGroups: [a.frontendGroupId ?? frontendId(), a.backendGroupId] }));
        return;
      case 'deleteSecurityGroup':
        try {
          await ec2.send(new DeleteSecurityGroupCommand({ GroupId: a.groupId }));
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
        if (result.frontendGroupId === a.groupId) {
          delete result.frontendGroupId;
          result.frontendRules = [];
        }
        return;
      case 'createListener': {
        const out = await elbv2.send(new CreateListenerCommand({ LoadBalancerArn: lbArn(), ...listenerInput(a.listener) }));
        const arn = out.Listeners?.[0]?.ListenerArn;
        if (arn) {
          result.listenerArns.set(a.listener.port, arn);
          const sni = a.listener.protocol === 'TLS' ? (a.listener.certificateArns ?? []).slice(1) : [];
          if (sni.length > 0) await elbv2.send(new AddListenerCertificatesCommand({ ListenerArn: arn, Certificates: sni.map((CertificateArn) => ({ CertificateArn })) }));
        }
        return;
      }
      case 'modifyListener':
        await elbv2.send(new ModifyListenerCommand({ ListenerArn: a.arn, ...listenerInput(a.listener) }));
        return;
      case 'deleteListener':
        try {
          await elbv2.send(new DeleteListenerCommand({ ListenerArn: a.arn }));
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
        result.listenerArns.delete(a.port);
        return;
      case 'deleteTargetGroup':
        try {
          await elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: a.arn }));
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
        ctx.inventory?.forget(a.arn);
        result.targetGroupArns.delete(a.name);
        return;
    }
  };

  const all = async () => {
    for (const a of actions) {
      const errorBefore = result.ruleError;
      await run(a);
      if (result.ruleError !== errorBefore) continue; // reported by the caller, not as applied
      result.calls++;
      ctx.onApplied?.(a);
    }
  };
  if (opts.ownerScope === false) await all();
  else await clients.guard.asOwner(owner, all);
  return result;
}
