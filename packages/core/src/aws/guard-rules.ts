import {
  DescribeNetworkInterfacesCommand,
  paginateDescribeSecurityGroupRules,
  type AssignIpv6AddressesCommandInput,
  type AssignPrivateIpAddressesCommandInput,
  type AttachNetworkInterfaceCommandInput,
  type AttachVolumeCommandInput,
  type AuthorizeSecurityGroupIngressCommandInput,
  type CreateNetworkInterfaceCommandInput,
  type CreateNetworkInterfaceCommandOutput,
  type CreateSecurityGroupCommandInput,
  type CreateSecurityGroupCommandOutput,
  type CreateTagsCommandInput,
  type CreateVolumeCommandInput,
  type CreateVolumeCommandOutput,
  type DeleteNetworkInterfaceCommandInput,
  type DeleteSecurityGroupCommandInput,
  type DeleteTagsCommandInput,
  type DeleteVolumeCommandInput,
  type DetachNetworkInterfaceCommandInput,
  type DetachVolumeCommandInput,
  type EC2Client,
  type IpPermission,
  type ModifyNetworkInterfaceAttributeCommandInput,
  type ModifySecurityGroupRulesCommandInput,
  type ModifyVolumeCommandInput,
  type RevokeSecurityGroupIngressCommandInput,
  type SecurityGroupRule,
  type TagSpecification,
  type UnassignIpv6AddressesCommandInput,
  type UnassignPrivateIpAddressesCommandInput,
} from '@aws-sdk/client-ec2';
import type {
  AddListenerCertificatesCommandInput,
  AddTagsCommandInput,
  CreateListenerCommandInput,
  CreateLoadBalancerCommandInput,
  CreateLoadBalancerCommandOutput,
  CreateRuleCommandInput,
  CreateTargetGroupCommandInput,
  CreateTargetGroupCommandOutput,
  DeleteListenerCommandInput,
  DeleteLoadBalancerCommandInput,
  DeleteRuleCommandInput,
  DeleteTargetGroupCommandInput,
  DeregisterTargetsCommandInput,
  ModifyListenerCommandInput,
  ModifyLoadBalancerAttributesCommandInput,
  ModifyRuleCommandInput,
  ModifyTargetGroupAttributesCommandInput,
  ModifyTargetGroupCommandInput,
  RegisterTargetsCommandInput,
  RemoveTagsCommandInput,
  SetRulePrioritiesCommandInput,
  SetSecurityGroupsCommandInput,
  SetSubnetsCommandInput,
  SetIpAddressTypeCommandInput,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  DescribeAutoScalingInstancesCommand,
  type AutoScalingClient,
  type CreateAutoScalingGroupCommandInput,
  type CreateOrUpdateTagsCommandInput,
  type DeleteAutoScalingGroupCommandInput,
  type DeleteTagsCommandInput as AsgDeleteTagsCommandInput,
  type SetDesiredCapacityCommandInput,
  type SetInstanceProtectionCommandInput,
  type TerminateInstanceInAutoScalingGroupCommandInput,
  type UpdateAutoScalingGroupCommandInput,
} from '@aws-sdk/client-auto-scaling';
import type { ChangeKind } from '../tags/ownership.ts';
import { tagsFromAws, type Tags } from '../tags/tags.ts';
import { AwsError } from './errors.ts';
import { loadBalancerArnOf } from './partition.ts';

/** A resource the guard can fetch tags for. ELBv2 listener and rule ARNs resolve to their load balancer. */
export interface ResourceRef {
  service: 'ec2' | 'elbv2' | 'autoscaling';
  /** EC2 resource ID, ELBv2 ARN, or Auto Scaling group name. */
  id: string;
}

export const ec2Resource = (id: string): ResourceRef => ({ service: 'ec2', id });
export const elbResource = (arn: string): ResourceRef => ({ service: 'elbv2', id: loadBalancerArnOf(arn) ?? arn });
export const asgResource = (name: string): ResourceRef => ({ service: 'autoscaling', id: name });

/** A resource a mutating call touches, and how. */
export interface GuardTarget {
  ref: ResourceRef;
  change: ChangeKind;
  /** Descriptions the call puts on the resource; on shared resources each must name a kube-iaas owner. */
  adds?: ReadonlyArray<string | undefined>;
  /** For `retract` on shared resources: looks up the descriptions of what the call removes. */
  removes?: () => Promise<ReadonlyArray<string | undefined>>;
}

export interface RuleContext {
  ec2: EC2Client;
  autoScaling: AutoScalingClient;
}

/**
 * The Auto Scaling group an instance belongs to. Terminating an instance through its group is a change
 * to the group's size, so the group's tags decide; an instance's own tags may be missing (tags not
 * propagated at launch) or name someone else. Not in any group: not-found, as AWS itself would answer.
 */
export async function autoScalingGroupOfInstance(autoScaling: AutoScalingClient, instanceId: string): Promise<string> {
  const out = await autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }));
  const name = out.AutoScalingInstances?.find((i) => i.InstanceId === instanceId)?.AutoScalingGroupName;
  if (!name) {
    throw new AwsError({ kind: 'not-found', code: 'ValidationError', message: `instance ${instanceId} is not in an Auto Scaling group`, service: 'autoscaling', operation: 'DescribeAutoScalingInstances' });
  }
  return name;
}

/**
 * How the guard reads one mutating operation. Method syntax on purpose: each rule is typed with its
 * command's input, and the table holds them side by side.
 */
export interface GuardRule<I extends object = object, O extends object = object> {
  /** Existing resources the call changes. */
  targets?(input: I, ctx: RuleContext): GuardTarget[] | Promise<GuardTarget[]>;
  /** For create calls: what is created and the tags it is created with (must be ours). */
  creates?: { what: string; tags(input: I): Tags | undefined; created(input: I, output: O): ResourceRef | undefined };
  /** After success, drop cached tags of the targets (tags changed, or the resource is gone). */
  invalidates?: boolean;
}

function rule<I extends object, O extends object = object>(r: GuardRule<I, O>): GuardRule<object, object> {
  return r;
}

function specTags(specs: TagSpecification[] | undefined, resourceType: string): Tags | undefined {
  const spec = specs?.find((s) => s.ResourceType === resourceType);
  return spec ? tagsFromAws(spec.Tags) : undefined;
}

const ids = (...values: Array<string | undefined>): string[] => values.filter((v): v is string => typeof v === 'string' && v !== '');

function ec2Targets(change: ChangeKind, ...values: Array<string | undefined>): GuardTarget[] {
  return ids(...values).map((id) => ({ ref: ec2Resource(id), change }));
}

function elbTargets(change: ChangeKind, ...values: Array<string | undefined>): GuardTarget[] {
  return ids(...values).map((id) => ({ ref: elbResource(id), change }));
}

// --- security-group rules -------------------------------------------------------------------------

/** Descriptions carried by each source of each permission (undefined where a source has none). */
export function permissionDescriptions(perms: IpPermission[] | undefined): Array<string | undefined> {
  const out: Array<string | undefined> = [];
  for (const p of perms ?? []) {
    for (const r of p.IpRanges ?? []) out.push(r.Description);
    for (const r of p.Ipv6Ranges ?? []) out.push(r.Description);
    for (const r of p.UserIdGroupPairs ?? []) out.push(r.Description);
    for (const r of p.PrefixListIds ?? []) out.push(r.Description);
  }
  return out;
}

const PROTOCOL_NUMBERS: Record<string, string> = { tcp: '6', udp: '17', icmp: '1', icmpv6: '58', all: '-1' };
const proto = (p: string | undefined): string => {
  const v = (p ?? '-1').toLowerCase();
  return PROTOCOL_NUMBERS[v] ?? v;
};

/** The existing rules a revoke-by-permission call would remove. */
export function matchingRules(perms: IpPermission[], rules: SecurityGroupRule[], egress: boolean): SecurityGroupRule[] {
  const out: SecurityGroupRule[] = [];
  for (const p of perms) {
    const allPorts = proto(p.IpProtocol) === '-1';
    const candidates = rules.filter(
      (r) =>
        (r.IsEgress ?? false) === egress &&
        proto(r.IpProtocol) === proto(p.IpProtocol) &&
        (allPorts || ((r.FromPort ?? -1) === (p.FromPort ?? -1) && (r.ToPort ?? -1) === (p.ToPort ?? -1))),
    );
    const sources: Array<(r: SecurityGroupRule) => boolean> = [
      ...(p.IpRanges ?? []).map((s) => (r: SecurityGroupRule) => r.CidrIpv4 === s.CidrIp),
      ...(p.Ipv6Ranges ?? []).map((s) => (r: SecurityGroupRule) => r.CidrIpv6 === s.CidrIpv6),
      ...(p.UserIdGroupPairs ?? []).map((s) => (r: SecurityGroupRule) => r.ReferencedGroupInfo?.GroupId === s.GroupId),
      ...(p.PrefixListIds ?? []).map((s) => (r: SecurityGroupRule) => r.PrefixListId === s.PrefixListId),
    ];
    for (const matches of sources) {
      const hit = candidates.find(matches);
      if (hit) out.push(hit);
    }
  }
  return out;
}

async function groupRules(ec2: EC2Client, groupId: string): Promise<SecurityGroupRule[]> {
  const out: SecurityGroupRule[] = [];
  for await (const page of paginateDescribeSecurityGroupRules({ client: ec2 }, { Filters: [{ Name: 'group-id', Values: [groupId] }] })) {
    out.push(...(page.SecurityGroupRules ?? []));
  }
  return out;
}

function authorizeRule() {
  return rule<AuthorizeSecurityGroupIngressCommandInput>({
    targets: (i) => {
      if (!i.GroupId) return [{ ref: ec2Resource(`group-name:${i.GroupName ?? ''}`), change: 'additive' }];
      const perms = i.IpPermissions ?? [];
      // The legacy flat form (CidrIp/IpProtocol/ports) carries no description.
      const adds = perms.length > 0 ? permissionDescriptions(perms) : [undefined];
      return [{ ref: ec2Resource(i.GroupId), change: 'additive', adds }];
    },
  });
}

function revokeRule(egress: boolean) {
  return rule<RevokeSecurityGroupIngressCommandInput>({
    targets: (i, ctx) => {
      const groupId = i.GroupId;
      if (!groupId) return [{ ref: ec2Resource(`group-name:${i.GroupName ?? ''}`), change: 'retract' }];
      const removes = async () => {
        const rules = await groupRules(ctx.ec2, groupId);
        if (i.SecurityGroupRuleIds?.length) {
          const wanted = new Set(i.SecurityGroupRuleIds);
          return rules.filter((r) => r.SecurityGroupRuleId && wanted.has(r.SecurityGroupRuleId)).map((r) => r.Description);
        }
        const perms: IpPermission[] = i.IpPermissions?.length
          ? i.IpPermissions
          : [{ IpProtocol: i.IpProtocol, FromPort: i.FromPort, ToPort: i.ToPort, IpRanges: i.CidrIp ? [{ CidrIp: i.CidrIp }] : [], UserIdGroupPairs: i.SourceSecurityGroupName ? [{ GroupName: i.SourceSecurityGroupName }] : [] }];
        return matchingRules(perms, rules, egress).map((r) => r.Description);
      };
      return [{ ref: ec2Resource(groupId), change: 'retract', removes }];
    },
  });
}

// --- the table -------------------------------------------------------------------------------------

/**
 * Every mutating operation the guard lets through, and what it touches. A mutating call that is
 * not listed is refused (`reason: 'no-rule'`): add it here, or run the call inside
 * `guard.unchecked(reason, fn)` if it touches nothing that could belong to someone else.
 */
export const GUARD_RULES: Record<ResourceRef['service'], Record<string, GuardRule>> = {
  ec2: {
    AuthorizeSecurityGroupIngress: authorizeRule(),
    AuthorizeSecurityGroupEgress: authorizeRule(),
    RevokeSecurityGroupIngress: revokeRule(false),
    RevokeSecurityGroupEgress: revokeRule(true),
    ModifySecurityGroupRules: rule<ModifySecurityGroupRulesCommandInput>({ targets: (i) => ec2Targets('any', i.GroupId) }),
    UpdateSecurityGroupRuleDescriptionsIngress: rule<ModifySecurityGroupRulesCommandInput>({ targets: (i) => ec2Targets('any', i.GroupId) }),
    UpdateSecurityGroupRuleDescriptionsEgress: rule<ModifySecurityGroupRulesCommandInput>({ targets: (i) => ec2Targets('any', i.GroupId) }),
    DeleteSecurityGroup: rule<DeleteSecurityGroupCommandInput>({
      targets: (i) => (i.GroupId ? ec2Targets('any', i.GroupId) : [{ ref: ec2Resource(`group-name:${i.GroupName ?? ''}`), change: 'any' }]),
      invalidates: true,
    }),
    CreateSecurityGroup: rule<CreateSecurityGroupCommandInput, CreateSecurityGroupCommandOutput>({
      creates: { what: 'security group', tags: (i) => specTags(i.TagSpecifications, 'security-group'), created: (_i, o) => (o.GroupId ? ec2Resource(o.GroupId) : undefined) },
    }),

    CreateVolume: rule<CreateVolumeCommandInput, CreateVolumeCommandOutput>({
      creates: { what: 'volume', tags: (i) => specTags(i.TagSpecifications, 'volume'), created: (_i, o) => (o.VolumeId ? ec2Resource(o.VolumeId) : undefined) },
    }),
    DeleteVolume: rule<DeleteVolumeCommandInput>({ targets: (i) => ec2Targets('any', i.VolumeId), invalidates: true }),
    ModifyVolume: rule<ModifyVolumeCommandInput>({ targets: (i) => ec2Targets('any', i.VolumeId) }),
    AttachVolume: rule<AttachVolumeCommandInput>({ targets: (i) => [...ec2Targets('any', i.VolumeId), ...ec2Targets('additive', i.InstanceId)] }),
    DetachVolume: rule<DetachVolumeCommandInput>({ targets: (i) => ec2Targets('any', i.VolumeId) }),

    CreateNetworkInterface: rule<CreateNetworkInterfaceCommandInput, CreateNetworkInterfaceCommandOutput>({
      creates: {
        what: 'network interface',
        tags: (i) => specTags(i.TagSpecifications, 'network-interface'),
        created: (_i, o) => (o.NetworkInterface?.NetworkInterfaceId ? ec2Resource(o.NetworkInterface.NetworkInterfaceId) : undefined),
      },
    }),
    DeleteNetworkInterface: rule<DeleteNetworkInterfaceCommandInput>({ targets: (i) => ec2Targets('any', i.NetworkInterfaceId), invalidates: true }),
    AttachNetworkInterface: rule<AttachNetworkInterfaceCommandInput>({ targets: (i) => [...ec2Targets('any', i.NetworkInterfaceId), ...ec2Targets('additive', i.InstanceId)] }),
    DetachNetworkInterface: rule<DetachNetworkInterfaceCommandInput>({
      targets: async (i, ctx) => {
        if (!i.AttachmentId) return [];
        const found = await ctx.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'attachment.attachment-id', Values: [i.AttachmentId] }] }));
        const eni = found.NetworkInterfaces?.[0]?.NetworkInterfaceId;
        // An unknown attachment: let AWS answer (it will say not found); nothing of anyone's is touched.
        return eni ? ec2Targets('any', eni) : [];
      },
    }),
    ModifyNetworkInterfaceAttribute: rule<ModifyNetworkInterfaceAttributeCommandInput>({ targets: (i) => ec2Targets('any', i.NetworkInterfaceId) }),
    AssignPrivateIpAddresses: rule<AssignPrivateIpAddressesCommandInput>({ targets: (i) => ec2Targets('additive', i.NetworkInterfaceId) }),
    UnassignPrivateIpAddresses: rule<UnassignPrivateIpAddressesCommandInput>({
      targets: (i) => ids(i.NetworkInterfaceId).map((id) => ({ ref: ec2Resource(id), change: 'retract', removes: async () => [] })),
    }),
    AssignIpv6Addresses: rule<AssignIpv6AddressesCommandInput>({ targets: (i) => ec2Targets('additive', i.NetworkInterfaceId) }),
    UnassignIpv6Addresses: rule<UnassignIpv6AddressesCommandInput>({
      targets: (i) => ids(i.NetworkInterfaceId).map((id) => ({ ref: ec2Resource(id), change: 'retract', removes: async () => [] })),
    }),

    CreateTags: rule<CreateTagsCommandInput>({ targets: (i) => ec2Targets('any', ...(i.Resources ?? [])), invalidates: true }),
    DeleteTags: rule<DeleteTagsCommandInput>({ targets: (i) => ec2Targets('any', ...(i.Resources ?? [])), invalidates: true }),
  },

  elbv2: {
    CreateLoadBalancer: rule<CreateLoadBalancerCommandInput, CreateLoadBalancerCommandOutput>({
      creates: { what: 'load balancer', tags: (i) => tagsFromAws(i.Tags), created: (_i, o) => (o.LoadBalancers?.[0]?.LoadBalancerArn ? elbResource(o.LoadBalancers[0].LoadBalancerArn) : undefined) },
    }),
    CreateTargetGroup: rule<CreateTargetGroupCommandInput, CreateTargetGroupCommandOutput>({
      creates: { what: 'target group', tags: (i) => tagsFromAws(i.Tags), created: (_i, o) => (o.TargetGroups?.[0]?.TargetGroupArn ? elbResource(o.TargetGroups[0].TargetGroupArn) : undefined) },
    }),
    DeleteLoadBalancer: rule<DeleteLoadBalancerCommandInput>({ targets: (i) => elbTargets('any', i.LoadBalancerArn), invalidates: true }),
    DeleteTargetGroup: rule<DeleteTargetGroupCommandInput>({ targets: (i) => elbTargets('any', i.TargetGroupArn), invalidates: true }),
    ModifyLoadBalancerAttributes: rule<ModifyLoadBalancerAttributesCommandInput>({ targets: (i) => elbTargets('any', i.LoadBalancerArn) }),
    SetSecurityGroups: rule<SetSecurityGroupsCommandInput>({ targets: (i) => elbTargets('any', i.LoadBalancerArn) }),
    SetSubnets: rule<SetSubnetsCommandInput>({ targets: (i) => elbTargets('any', i.LoadBalancerArn) }),
    SetIpAddressType: rule<SetIpAddressTypeCommandInput>({ targets: (i) => elbTargets('any', i.LoadBalancerArn) }),
    ModifyTargetGroup: rule<ModifyTargetGroupCommandInput>({ targets: (i) => elbTargets('any', i.TargetGroupArn) }),
    ModifyTargetGroupAttributes: rule<ModifyTargetGroupAttributesCommandInput>({ targets: (i) => elbTargets('any', i.TargetGroupArn) }),
    RegisterTargets: rule<RegisterTargetsCommandInput>({ targets: (i) => elbTargets('any', i.TargetGroupArn) }),
    DeregisterTargets: rule<DeregisterTargetsCommandInput>({ targets: (i) => elbTargets('any', i.TargetGroupArn) }),
    CreateListener: rule<CreateListenerCommandInput>({ targets: (i) => elbTargets('any', i.LoadBalancerArn) }),
    ModifyListener: rule<ModifyListenerCommandInput>({ targets: (i) => elbTargets('any', i.ListenerArn) }),
    DeleteListener: rule<DeleteListenerCommandInput>({ targets: (i) => elbTargets('any', i.ListenerArn) }),
    AddListenerCertificates: rule<AddListenerCertificatesCommandInput>({ targets: (i) => elbTargets('any', i.ListenerArn) }),
    RemoveListenerCertificates: rule<AddListenerCertificatesCommandInput>({ targets: (i) => elbTargets('any', i.ListenerArn) }),
    CreateRule: rule<CreateRuleCommandInput>({ targets: (i) => elbTargets('any', i.ListenerArn) }),
    ModifyRule: rule<ModifyRuleCommandInput>({ targets: (i) => elbTargets('any', i.RuleArn) }),
    DeleteRule: rule<DeleteRuleCommandInput>({ targets: (i) => elbTargets('any', i.RuleArn) }),
    SetRulePriorities: rule<SetRulePrioritiesCommandInput>({ targets: (i) => elbTargets('any', ...(i.RulePriorities ?? []).map((r) => r.RuleArn)) }),
    AddTags: rule<AddTagsCommandInput>({ targets: (i) => elbTargets('any', ...(i.ResourceArns ?? [])), invalidates: true }),
    RemoveTags: rule<RemoveTagsCommandInput>({ targets: (i) => elbTargets('any', ...(i.ResourceArns ?? [])), invalidates: true }),
  },

  autoscaling: {
    SetDesiredCapacity: rule<SetDesiredCapacityCommandInput>({ targets: (i) => [{ ref: asgResource(i.AutoScalingGroupName ?? ''), change: 'scale' }] }),
    UpdateAutoScalingGroup: rule<UpdateAutoScalingGroupCommandInput>({
      targets: (i) => {
        const sizeOnly = Object.keys(i).every((k) => ['AutoScalingGroupName', 'MinSize', 'MaxSize', 'DesiredCapacity'].includes(k));
        return [{ ref: asgResource(i.AutoScalingGroupName ?? ''), change: sizeOnly ? 'scale' : 'any' }];
      },
    }),
    SetInstanceProtection: rule<SetInstanceProtectionCommandInput>({ targets: (i) => [{ ref: asgResource(i.AutoScalingGroupName ?? ''), change: 'scale' }] }),
    TerminateInstanceInAutoScalingGroup: rule<TerminateInstanceInAutoScalingGroupCommandInput>({
      targets: async (i, ctx) => (i.InstanceId ? [{ ref: asgResource(await autoScalingGroupOfInstance(ctx.autoScaling, i.InstanceId)), change: 'scale' }] : []),
    }),
    CreateAutoScalingGroup: rule<CreateAutoScalingGroupCommandInput>({
      creates: {
        what: 'auto scaling group',
        tags: (i) => tagsFromAws(i.Tags),
        created: (i) => (i.AutoScalingGroupName ? asgResource(i.AutoScalingGroupName) : undefined),
      },
    }),
    DeleteAutoScalingGroup: rule<DeleteAutoScalingGroupCommandInput>({ targets: (i) => [{ ref: asgResource(i.AutoScalingGroupName ?? ''), change: 'any' }], invalidates: true }),
    CreateOrUpdateTags: rule<CreateOrUpdateTagsCommandInput>({
      targets: (i) => [...new Set((i.Tags ?? []).map((t) => t.ResourceId ?? ''))].map((name) => ({ ref: asgResource(name), change: 'any' as const })),
      invalidates: true,
    }),
    DeleteTags: rule<AsgDeleteTagsCommandInput>({
      targets: (i) => [...new Set((i.Tags ?? []).map((t) => t.ResourceId ?? ''))].map((name) => ({ ref: asgResource(name), change: 'any' as const })),
      invalidates: true,
    }),
  },
};
