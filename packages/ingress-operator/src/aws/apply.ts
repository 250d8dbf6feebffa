// Executes a plan through core's guarded clients, inside the owner's guard scope: every create carries the
// owner tags, every change and delete is checked against the resource's tags, and rules added to node
// security groups carry the owner's description. Creates are idempotent without client tokens: a name that
// already exists is adopted when it carries this owner's tags (a crash between create and status write),
// and refused otherwise. Deletions retry while AWS still sees a dependency.
import {
  AddListenerCertificatesCommand,
  AddTagsCommand,
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeleteListenerCommand,
  DeleteLoadBalancerCommand,
  DeleteRuleCommand,
  DeleteTargetGroupCommand,
  DeregisterTargetsCommand,
  ModifyListenerCommand,
  ModifyLoadBalancerAttributesCommand,
  ModifyRuleCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  RegisterTargetsCommand,
  SetSecurityGroupsCommand,
  SetSubnetsCommand,
  type LoadBalancer as SdkLoadBalancer,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteSecurityGroupCommand,
  RevokeSecurityGroupIngressCommand,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import {
  backoffDelay,
  classifyAwsError,
  describeListeners,
  describeLoadBalancers,
  describeRules,
  describeSecurityGroups,
  describeTargetGroups,
  isNotFound,
  isOwnedBy,
  toEc2Tags,
  toElbAttributes,
  toElbTags,
  toSdkActions,
  toSdkConditions,
  toTagSpecifications,
  type AwsClients,
  type ElbAction,
  type ElbRuleCondition,
  type Logger,
  type OwnerRef,
  type Tags,
} from '@kube-iaas/core';
import { describeAction } from '../plan/diff.ts';
import { MANAGED_SG, type Action, type ActualBackendRule, type ActualState, type BackendRule, type DesiredListener, type DesiredRule, type HealthCheckSettings, type RuleAction } from '../plan/types.ts';
import type { Inventory } from './inventory.ts';

export interface AppliedLoadBalancer {
  arn: string;
  name: string;
  scheme: string;
  dnsName?: string;
  canonicalHostedZoneId?: string;
  state?: string;
  subnetIds: string[];
  securityGroups: string[];
}

/** What the calls produced, for status. */
export interface ApplyResult {
  /** The ALB after the plan: the one created, else the kept one (`keepArn`), else none. */
  loadBalancer?: AppliedLoadBalancer;
  /** The managed security group: the one created, else the actual one. */
  securityGroupId?: string;
  /** Target group ARNs by AWS name: the actual ones and the created ones, minus the deleted ones. */
  targetGroupArns: Map<string, string>;
  /** Listener ARNs by port on the ALB. */
  listenerArns: Map<number, string>;
  /** Rules on the ALB's listeners after the plan ran. */
  rules: Array<{ listenerPort: number; priority: number; arn: string }>;
  /** Rules of this owner on node security groups after the plan ran. */
  backendRules: ActualBackendRule[];
  /** How many actions changed something. */
  calls: number;
  /**
   * Adding rules to a node security group failed (for example its rule quota is reached). The rest of the
   * plan still ran: the ALB exists and serves what the rules allow; the caller reports and retries.
   */
  ruleError?: unknown;
}

export interface ApplyContext {
  clients: AwsClients;
  owner: OwnerRef;
  actual: ActualState;
  /** The load balancer that stays (`Plan.keep.arn`), if one does. */
  keepArn?: string | undefined;
  inventory?: Inventory | undefined;
  /** One line per action, before its calls. */
  logger?: Logger | undefined;
  /** After each successful action (Events). */
  onApplied?: ((a: Action) => void) | undefined;
  /**
   * Deletions that meet ResourceInUse / DependencyViolation (an ALB's network interfaces let go of its
   * security group some seconds after the ALB is deleted) are tried this many times here, with exponential
   * backoff from `baseMs`. Default 1: the error is thrown at once and the controller's queue retries the key
   * with its per-key backoff, from a fresh read, without holding a worker meanwhile. Callers without a
   * queue (tests, one-off scripts) may ask for inline retries.
   */
  dependencyRetry?: { attempts?: number; baseMs?: number; maxMs?: number } | undefined;
}

function hcInput(hc: HealthCheckSettings) {
  return {
    HealthCheckProtocol: hc.protocol,
    HealthCheckPort: hc.port,
    HealthCheckPath: hc.path,
    HealthCheckIntervalSeconds: hc.intervalSeconds,
    HealthCheckTimeoutSeconds: hc.timeoutSeconds,
    HealthyThresholdCount: hc.healthyThreshold,
    UnhealthyThresholdCount: hc.unhealthyThreshold,
    Matcher: { HttpCode: hc.successCodes },
  };
}

function conditionsOf(r: DesiredRule): ElbRuleCondition[] {
  const out: ElbRuleCondition[] = [];
  if (r.hosts.length > 0) out.push({ field: 'host-header', values: r.hosts });
  if (r.paths.length > 0) out.push({ field: 'path-pattern', values: r.paths });
  return out;
}

const codeOf = (e: unknown) => classifyAwsError(e).code;
/** A delete refused because something still uses the resource: it goes by itself or by another delete. */
export const isStillInUse = (e: unknown): boolean => ['ResourceInUse', 'DependencyViolation', 'ResourceInUseFault', 'InvalidGroup.InUse'].includes(codeOf(e));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function toApplied(lb: SdkLoadBalancer, fallback: { name: string; scheme: string }): AppliedLoadBalancer {
  const out: AppliedLoadBalancer = {
    arn: lb.LoadBalancerArn ?? '',
    name: lb.LoadBalancerName ?? fallback.name,
    scheme: lb.Scheme ?? fallback.scheme,
    subnetIds: (lb.AvailabilityZones ?? []).flatMap((z) => (z.SubnetId ? [z.SubnetId] : [])).sort(),
    securityGroups: [...(lb.SecurityGroups ?? [])].sort(),
  };
  if (lb.DNSName) out.dnsName = lb.DNSName;
  if (lb.CanonicalHostedZoneId) out.canonicalHostedZoneId = lb.CanonicalHostedZoneId;
  if (lb.State?.Code) out.state = lb.State.Code;
  return out;
}

/**
 * Runs `actions` in order. Inside the owner's guard scope by default; `ownerScope: false` for the orphan
 * sweep, where the guard still demands each resource be owned by this cluster.
 */
export async function applyPlan(ctx: ApplyContext, actions: readonly Action[], opts: { ownerScope?: boolean } = {}): Promise<ApplyResult> {
  const { clients, owner, actual } = ctx;
  const { elbv2, ec2, cluster } = clients;
  const log = ctx.logger;
  const ours = (tags: Tags) => isOwnedBy(tags, cluster, owner);

  const result: ApplyResult = {
    targetGroupArns: new Map(actual.targetGroups.map((t) => [t.name, t.arn])),
    listenerArns: new Map(),
    rules: [],
    backendRules: [...actual.backendRules],
    calls: 0,
  };
  if (actual.securityGroups[0]) result.securityGroupId = actual.securityGroups[0].id;
  const kept = actual.loadBalancers.find((lb) => lb.arn === ctx.keepArn);
  if (kept) {
    result.loadBalancer = { arn: kept.arn, name: kept.name, scheme: kept.scheme, subnetIds: kept.subnetIds, securityGroups: kept.securityGroups };
    if (kept.dnsName) result.loadBalancer.dnsName = kept.dnsName;
    if (kept.canonicalHostedZoneId) result.loadBalancer.canonicalHostedZoneId = kept.canonicalHostedZoneId;
    if (kept.state) result.loadBalancer.state = kept.state;
  }
  const keptListeners = new Set<string>();
  for (const l of actual.listeners) {
    if (l.loadBalancerArn !== ctx.keepArn) continue;
    result.listenerArns.set(l.port, l.arn);
    keptListeners.add(l.arn);
  }
  for (const r of actual.rules) if (keptListeners.has(r.listenerArn)) result.rules.push({ listenerPort: r.listenerPort, priority: r.priority, arn: r.arn });

  const lbArn = (): string => {
    const arn = result.loadBalancer?.arn;
    if (!arn) throw new Error('the plan needs a load balancer before it has one');
    return arn;
  };
  const sg = (id: string): string => {
    if (id !== MANAGED_SG) return id;
    if (!result.securityGroupId) throw new Error('the plan uses the managed security group before it exists');
    return result.securityGroupId;
  };
  const tgArn = (name: string): string => {
    const arn = result.targetGroupArns.get(name);
    if (!arn) throw new Error(`target group ${name} is neither found nor created`);
    return arn;
  };
  const listenerArn = (port: number): string => {
    const arn = result.listenerArns.get(port);
    if (!arn) throw new Error(`listener on port ${port} is neither found nor created`);
    return arn;
  };
  const sdkActions = (a: RuleAction) => {
    const elb: ElbAction = a.type === 'forward' ? { type: 'forward', targetGroups: a.targetGroups.map((t) => ({ arn: tgArn(t.name), weight: t.weight })) } : a;
    return toSdkActions([elb]);
  };
  const listenerInput = (l: DesiredListener) => ({
    Port: l.port,
    Protocol: l.protocol,
    DefaultActions: sdkActions(l.defaultAction),
    ...(l.protocol === 'HTTPS' && l.certificateArns?.[0] ? { Certificates: [{ CertificateArn: l.certificateArns[0] }] } : {}),
    ...(l.protocol === 'HTTPS' && l.sslPolicy ? { SslPolicy: l.sslPolicy } : {}),
  });
  const setRule = (listenerPort: number, priority: number, arn: string) => {
    result.rules = [...result.rules.filter((r) => !(r.listenerPort === listenerPort && r.priority === priority)), { listenerPort, priority, arn }];
  };
  const retryDependency = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    const r = { attempts: 1, baseMs: 1000, maxMs: 15_000, ...ctx.dependencyRetry };
    for (let n = 0; ; n++) {
      try {
        return await fn();
      } catch (e) {
        if (!isStillInUse(e) || n + 1 >= r.attempts) throw e;
        const wait = backoffDelay(n, { baseMs: r.baseMs, maxMs: r.maxMs });
        log?.info({ owner: owner.name, what, code: codeOf(e), waitMs: wait }, 'still in use; retrying');
        await sleep(wait);
      }
    }
  };
  /** Deletes that find nothing are done. */
  const gone = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  };

  const authorizeBackend = async (rules: readonly BackendRule[], description: string): Promise<void> => {
    const byGroup = new Map<string, BackendRule[]>();
    for (const r of rules) byGroup.set(r.groupId, [...(byGroup.get(r.groupId) ?? []), { ...r, sourceGroupId: sg(r.sourceGroupId) }]);
    const permission = (r: BackendRule): IpPermission => ({ IpProtocol: 'tcp', FromPort: r.port, ToPort: r.port, UserIdGroupPairs: [{ GroupId: r.sourceGroupId, Description: description }] });
    for (const [groupId, group] of byGroup) {
      const authorize = async (rs: BackendRule[]) => {
        const out = await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: rs.map(permission) }));
        for (const sr of out.SecurityGroupRules ?? []) {
          const source = sr.ReferencedGroupInfo?.GroupId;
          if (!sr.SecurityGroupRuleId || !source) continue;
          result.backendRules.push({ groupId, port: sr.FromPort ?? 0, sourceGroupId: source, ruleId: sr.SecurityGroupRuleId, description });
        }
      };
      try {
        await authorize(group);
      } catch (e) {
        if (codeOf(e) !== 'InvalidPermission.Duplicate') {
          result.ruleError = e;
          continue;
        }
        // An identical rule (someone else's, or ours from a crashed run) already allows part of it.
        for (const r of group) {
          try {
            await authorize([r]);
          } catch (e2) {
            if (codeOf(e2) !== 'InvalidPermission.Duplicate') {
              result.ruleError = e2;
              break;
            }
          }
        }
      }
    }
  };

  const run = async (a: Action): Promise<void> => {
    switch (a.op) {
      case 'createSecurityGroup': {
        try {
          const out = await ec2.send(
            new CreateSecurityGroupCommand({ GroupName: a.sg.name, Description: a.sg.description, VpcId: a.sg.vpcId, TagSpecifications: toTagSpecifications('security-group', a.sg.tags) }),
          );
          if (!out.GroupId) throw new Error('CreateSecurityGroup returned no group');
          result.securityGroupId = out.GroupId;
        } catch (e) {
          if (codeOf(e) !== 'InvalidGroup.Duplicate') throw e;
          const [existing] = await describeSecurityGroups(ec2, { filters: [{ Name: 'group-name', Values: [a.sg.name] }, { Name: 'vpc-id', Values: [a.sg.vpcId] }] });
          if (!existing || !ours(existing.tags)) throw e;
          result.securityGroupId = existing.id;
        }
        return;
      }
      case 'authorizeSecurityGroupIngress': {
        const groupId = sg(a.groupId);
        const perms: IpPermission[] = a.rules.map((r) => ({
          IpProtocol: r.protocol,
          FromPort: r.port,
          ToPort: r.port,
          ...(r.cidr.includes(':') ? { Ipv6Ranges: [{ CidrIpv6: r.cidr }] } : { IpRanges: [{ CidrIp: r.cidr }] }),
        }));
        try {
          await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: perms }));
        } catch (e) {
          if (codeOf(e) !== 'InvalidPermission.Duplicate') throw e;
          for (const p of perms) {
            try {
              await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [p] }));
            } catch (e2) {
              if (codeOf(e2) !== 'InvalidPermission.Duplicate') throw e2;
            }
          }
        }
        return;
      }
      case 'authorizeBackend':
        await authorizeBackend(a.rules, a.description);
        return;
      case 'createLoadBalancer': {
        const input = {
          Name: a.lb.name,
          Type: 'application' as const,
          Scheme: a.lb.scheme,
          IpAddressType: a.lb.ipAddressType as 'ipv4' | 'dualstack',
          Subnets: a.lb.subnetIds,
          SecurityGroups: a.lb.securityGroups.map(sg),
          Tags: toElbTags(a.lb.tags),
        };
        let lb: SdkLoadBalancer | undefined;
        try {
          lb = (await elbv2.send(new CreateLoadBalancerCommand(input))).LoadBalancers?.[0];
        } catch (e) {
          if (codeOf(e) !== 'DuplicateLoadBalancerName') throw e;
          const [existing] = await describeLoadBalancers(elbv2, { names: [a.lb.name] });
          if (!existing || !ours(existing.tags)) throw e;
          lb = { LoadBalancerArn: existing.arn, LoadBalancerName: existing.name, Scheme: existing.scheme as 'internal', DNSName: existing.dnsName, SecurityGroups: existing.securityGroupIds };
        }
        if (!lb?.LoadBalancerArn) throw new Error('CreateLoadBalancer returned no load balancer');
        ctx.inventory?.remember(owner.uid, 'loadbalancer', lb.LoadBalancerArn);
        result.loadBalancer = toApplied(lb, a.lb);
        result.listenerArns.clear();
        result.rules = [];
        return;
      }
      case 'setSecurityGroups':
        await elbv2.send(new SetSecurityGroupsCommand({ LoadBalancerArn: a.arn, SecurityGroups: a.securityGroups.map(sg) }));
        return;
      case 'setSubnets':
        await elbv2.send(new SetSubnetsCommand({ LoadBalancerArn: a.arn, Subnets: a.subnetIds }));
        return;
      case 'modifyLoadBalancerAttributes':
        await elbv2.send(new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: a.arn || lbArn(), Attributes: toElbAttributes(a.attributes) }));
        return;
      case 'addTags': {
        const groups = a.arns.filter((x) => x.startsWith('sg-'));
        const arns = a.arns.filter((x) => !x.startsWith('sg-'));
        if (groups.length > 0) await ec2.send(new CreateTagsCommand({ Resources: groups, Tags: toEc2Tags(a.tags) }));
        if (arns.length > 0) await elbv2.send(new AddTagsCommand({ ResourceArns: arns, Tags: toElbTags(a.tags) }));
        return;
      }
      case 'createTargetGroup': {
        let arn: string | undefined;
        try {
          const out = await elbv2.send(
            new CreateTargetGroupCommand({ Name: a.tg.name, Protocol: a.tg.protocol, Port: a.tg.port, VpcId: a.tg.vpcId, TargetType: 'instance', ...hcInput(a.tg.healthCheck), Tags: toElbTags(a.tg.tags) }),
          );
          arn = out.TargetGroups?.[0]?.TargetGroupArn;
        } catch (e) {
          if (codeOf(e) !== 'DuplicateTargetGroupName') throw e;
          const [existing] = await describeTargetGroups(elbv2, { names: [a.tg.name] });
          if (!existing || !ours(existing.tags)) throw e;
          arn = existing.arn;
        }
        if (!arn) throw new Error('CreateTargetGroup returned no target group');
        ctx.inventory?.remember(owner.uid, 'targetgroup', arn);
        result.targetGroupArns.set(a.tg.name, arn);
        return;
      }
      case 'modifyTargetGroup':
        await elbv2.send(new ModifyTargetGroupCommand({ TargetGroupArn: a.arn, ...hcInput(a.healthCheck) }));
        return;
      case 'modifyTargetGroupAttributes':
        await elbv2.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: tgArn(a.targetGroupName), Attributes: toElbAttributes(a.attributes) }));
        return;
      case 'createListener': {
        let arn: string | undefined;
        try {
          arn = (await elbv2.send(new CreateListenerCommand({ LoadBalancerArn: lbArn(), ...listenerInput(a.listener) }))).Listeners?.[0]?.ListenerArn;
        } catch (e) {
          if (codeOf(e) !== 'DuplicateListener') throw e;
          // Ours from a crashed run (it is on our ALB): bring it to the desired settings.
          arn = (await describeListeners(elbv2, lbArn())).find((l) => l.port === a.listener.port)?.arn;
          if (!arn) throw e;
          await elbv2.send(new ModifyListenerCommand({ ListenerArn: arn, ...listenerInput(a.listener) }));
        }
        if (!arn) throw new Error('CreateListener returned no listener');
        result.listenerArns.set(a.listener.port, arn);
        const sni = a.listener.protocol === 'HTTPS' ? (a.listener.certificateArns ?? []).slice(1) : [];
        if (sni.length > 0) await elbv2.send(new AddListenerCertificatesCommand({ ListenerArn: arn, Certificates: sni.map((CertificateArn) => ({ CertificateArn })) }));
        return;
      }
      case 'modifyListener':
        await elbv2.send(new ModifyListenerCommand({ ListenerArn: a.arn, ...listenerInput(a.listener) }));
        return;
      case 'createRule': {
        const l = listenerArn(a.rule.listenerPort);
        const body = { Conditions: toSdkConditions(conditionsOf(a.rule)), Actions: sdkActions(a.rule.action) };
        let arn: string | undefined;
        try {
          arn = (await elbv2.send(new CreateRuleCommand({ ListenerArn: l, Priority: a.rule.priority, ...body }))).Rules?.[0]?.RuleArn;
        } catch (e) {
          if (codeOf(e) !== 'PriorityInUse') throw e;
          // The slot holds a rule on our listener (a crashed run's): make it this one.
          arn = (await describeRules(elbv2, l)).find((r) => r.priority === a.rule.priority)?.arn;
          if (!arn) throw e;
          await elbv2.send(new ModifyRuleCommand({ RuleArn: arn, ...body }));
        }
        if (!arn) throw new Error('CreateRule returned no rule');
        setRule(a.rule.listenerPort, a.rule.priority, arn);
        return;
      }
      case 'modifyRule':
        await elbv2.send(new ModifyRuleCommand({ RuleArn: a.arn, Conditions: toSdkConditions(conditionsOf(a.rule)), Actions: sdkActions(a.rule.action) }));
        setRule(a.rule.listenerPort, a.rule.priority, a.arn);
        return;
      case 'registerTargets':
        await elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: tgArn(a.targetGroupName), Targets: a.ids.map((Id) => ({ Id })) }));
        return;
      case 'deregisterTargets':
        await gone(() => elbv2.send(new DeregisterTargetsCommand({ TargetGroupArn: a.arn, Targets: a.ids.map((Id) => ({ Id })) })));
        return;
      case 'deleteRule':
        await gone(() => elbv2.send(new DeleteRuleCommand({ RuleArn: a.arn })));
        result.rules = result.rules.filter((r) => r.arn !== a.arn);
        return;
      case 'deleteListener':
        await gone(() => elbv2.send(new DeleteListenerCommand({ ListenerArn: a.arn })));
        if (result.listenerArns.get(a.port) === a.arn) result.listenerArns.delete(a.port);
        result.rules = result.rules.filter((r) => r.listenerPort !== a.port);
        return;
      case 'deleteLoadBalancer':
        await retryDependency(`load balancer ${a.name}`, () => gone(() => elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: a.arn }))));
        ctx.inventory?.forget(a.arn);
        if (result.loadBalancer?.arn === a.arn) {
          delete result.loadBalancer;
          result.listenerArns.clear();
          result.rules = [];
        }
        return;
      case 'deleteTargetGroup':
        // A target group stays in use for a moment after the rules or the ALB that forwarded to it are gone.
        await retryDependency(`target group ${a.name}`, () => gone(() => elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: a.arn }))));
        ctx.inventory?.forget(a.arn);
        if (result.targetGroupArns.get(a.name) === a.arn) result.targetGroupArns.delete(a.name);
        return;
      case 'revokeBackend': {
        const byGroup = new Map<string, ActualBackendRule[]>();
        for (const r of a.rules) byGroup.set(r.groupId, [...(byGroup.get(r.groupId) ?? []), r]);
        for (const [groupId, rules] of byGroup) await gone(() => ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, SecurityGroupRuleIds: rules.map((r) => r.ruleId) })));
        const revoked = new Set(a.rules.map((r) => r.ruleId));
        result.backendRules = result.backendRules.filter((r) => !revoked.has(r.ruleId));
        return;
      }
      case 'revokeSecurityGroupIngress':
        await gone(() => ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: a.groupId, SecurityGroupRuleIds: a.ruleIds })));
        return;
      case 'deleteSecurityGroup':
        // The ALB's network interfaces hold the group until AWS has finished deleting the ALB.
        await retryDependency(`security group ${a.name}`, () => gone(() => ec2.send(new DeleteSecurityGroupCommand({ GroupId: a.groupId }))));
        if (result.securityGroupId === a.groupId) delete result.securityGroupId;
        return;
    }
  };

  const all = async () => {
    for (const a of actions) {
      log?.info({ owner: `${owner.namespace ?? ''}/${owner.name}`, op: a.op }, describeAction(a));
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
