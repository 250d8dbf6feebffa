// How the ownership guard learns a resource's tags: fetched by one describe per kind of resource, or
// taken from describe outputs the operators make anyway (which is why most checks cost no call).
import {
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVolumesCommand,
  paginateDescribeTags,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { DescribeTagsCommand as ElbDescribeTagsCommand, type ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeAutoScalingGroupsCommand, type AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CLUSTER_SHARED, CLUSTER_TAG_PREFIX, OWNER_CLUSTER_TAG, OWNER_KIND_TAG, OWNER_TAG, OWNER_UID_TAG } from '../tags/keys.ts';
import { clusterOwnership } from '../tags/ownership.ts';
import { tagsFromAws, type Tags } from '../tags/tags.ts';
import { AwsError } from './errors.ts';
import { asgResource, ec2Resource, elbResource, type ResourceRef } from './guard-rules.ts';
import { isArn, parseArn } from './partition.ts';

export interface GuardClients {
  ec2: EC2Client;
  elbv2: ElasticLoadBalancingV2Client;
  autoScaling: AutoScalingClient;
}

/** Human name of a resource kind from its ID, for messages. */
export function resourceTypeOf(ref: ResourceRef): string {
  if (ref.service === 'autoscaling') return 'auto scaling group';
  if (ref.service === 'elbv2') {
    if (!isArn(ref.id)) return 'ELBv2 resource';
    const kind = parseArn(ref.id).resource.split('/')[0];
    return kind === 'targetgroup' ? 'target group' : kind === 'loadbalancer' ? 'load balancer' : `ELBv2 ${kind}`;
  }
  const prefix = ref.id.startsWith('group-name:') ? 'sg' : ref.id.split('-')[0];
  const names: Record<string, string> = { sg: 'security group', vol: 'volume', eni: 'network interface', i: 'instance', subnet: 'subnet', vpc: 'VPC' };
  return names[prefix ?? ''] ?? 'EC2 resource';
}

/** Caps every cluster tag at `shared` and drops owner tags: for a primary ENI judged by its instance. */
function asShared(tags: Tags): Tags {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags)) {
    if (k === OWNER_CLUSTER_TAG || k === OWNER_KIND_TAG || k === OWNER_TAG || k === OWNER_UID_TAG) continue;
    out[k] = k.startsWith(CLUSTER_TAG_PREFIX) ? CLUSTER_SHARED : v;
  }
  return out;
}

function notFound(ref: ResourceRef, code: string): AwsError {
  return new AwsError({ kind: 'not-found', code, message: `${resourceTypeOf(ref)} ${ref.id} does not exist`, service: ref.service });
}

/**
 * Reads a resource's tags with the describe call of its kind. An ENI at device index 0 with no tags of
 * ours is an instance's primary: judged by the instance's tags (`tagsOf`, cached), capped at shared.
 */
export async function fetchResourceTags(clients: GuardClients, ref: ResourceRef, cluster: string, tagsOf: (ref: ResourceRef) => Promise<Tags>): Promise<Tags> {
  const { ec2, elbv2, autoScaling } = clients;
  if (ref.service === 'autoscaling') {
    const out = await autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [ref.id] }));
    const g = out.AutoScalingGroups?.[0];
    if (!g) throw notFound(ref, 'ValidationError');
    return tagsFromAws(g.Tags);
  }
  if (ref.service === 'elbv2') {
    const out = await elbv2.send(new ElbDescribeTagsCommand({ ResourceArns: [ref.id] }));
    return tagsFromAws(out.TagDescriptions?.[0]?.Tags);
  }
  const id = ref.id;
  if (id.startsWith('group-name:')) {
    const out = await ec2.send(new DescribeSecurityGroupsCommand({ GroupNames: [id.slice('group-name:'.length)] }));
    return tagsFromAws(out.SecurityGroups?.[0]?.Tags);
  }
  const prefix = id.split('-')[0];
  switch (prefix) {
    case 'sg': {
      const g = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [id] }))).SecurityGroups?.[0];
      if (!g) throw notFound(ref, 'InvalidGroup.NotFound');
      return tagsFromAws(g.Tags);
    }
    case 'vol': {
      const v = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [id] }))).Volumes?.[0];
      if (!v) throw notFound(ref, 'InvalidVolume.NotFound');
      return tagsFromAws(v.Tags);
    }
    case 'subnet': {
      const s = (await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [id] }))).Subnets?.[0];
      if (!s) throw notFound(ref, 'InvalidSubnetID.NotFound');
      return tagsFromAws(s.Tags);
    }
    case 'i': {
      const i = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations?.[0]?.Instances?.[0];
      if (!i) throw notFound(ref, 'InvalidInstanceID.NotFound');
      return tagsFromAws(i.Tags);
    }
    case 'eni': {
      const n = (await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id] }))).NetworkInterfaces?.[0];
      if (!n) throw notFound(ref, 'InvalidNetworkInterfaceID.NotFound');
      const tags = tagsFromAws(n.TagSet);
      // An instance's primary interface is created by EC2 with no tags of ours: judge it by the
      // instance, but never as more than shared (IPs may be added and removed, nothing else).
      if (clusterOwnership(tags, cluster).state === 'untagged' && n.Attachment?.DeviceIndex === 0 && n.Attachment.InstanceId) {
        return asShared({ ...(await tagsOf(ec2Resource(n.Attachment.InstanceId))), ...tags });
      }
      return tags;
    }
    default: {
      const tags: Record<string, string> = {};
      for await (const page of paginateDescribeTags({ client: ec2 }, { Filters: [{ Name: 'resource-id', Values: [id] }] })) {
        for (const t of page.Tags ?? []) if (t.Key) tags[t.Key] = t.Value ?? '';
      }
      return tags;
    }
  }
}

/** The complete tag sets a describe output carries (what the guard's cache is fed from). */
export function observedTags(service: ResourceRef['service'], operation: string, output: object, cluster: string): [ResourceRef, Tags][] {
  const seen: [ResourceRef, Tags][] = [];
  const observe = (ref: ResourceRef, tags: Tags): void => void seen.push([ref, tags]);
  const o = output as Record<string, unknown>;
  const each = <T>(v: unknown, fn: (item: T) => void) => {
    if (Array.isArray(v)) for (const item of v as T[]) fn(item);
  };
  type Tagged = { Key?: string; Value?: string }[] | undefined;
  if (service === 'ec2') {
    each<{ VolumeId?: string; Tags?: Tagged }>(o.Volumes, (v) => v.VolumeId && observe(ec2Resource(v.VolumeId), tagsFromAws(v.Tags)));
    each<{ GroupId?: string; Tags?: Tagged }>(o.SecurityGroups, (g) => g.GroupId && observe(ec2Resource(g.GroupId), tagsFromAws(g.Tags)));
    each<{ SubnetId?: string; Tags?: Tagged }>(o.Subnets, (s) => s.SubnetId && observe(ec2Resource(s.SubnetId), tagsFromAws(s.Tags)));
    each<{ Instances?: unknown }>(o.Reservations, (r) =>
      each<{ InstanceId?: string; Tags?: Tagged }>(r.Instances, (i) => i.InstanceId && observe(ec2Resource(i.InstanceId), tagsFromAws(i.Tags))),
    );
    each<{ NetworkInterfaceId?: string; TagSet?: Tagged; Attachment?: { DeviceIndex?: number } }>(o.NetworkInterfaces, (n) => {
      if (!n.NetworkInterfaceId) return;
      const tags = tagsFromAws(n.TagSet);
      // Primary interfaces borrow their instance's tags: leave those to fetchTags.
      if (n.Attachment?.DeviceIndex === 0 && clusterOwnership(tags, cluster).state === 'untagged') return;
      observe(ec2Resource(n.NetworkInterfaceId), tags);
    });
  } else if (service === 'elbv2' && operation === 'DescribeTags') {
    // Only load balancers and target groups: a listener's own tags are not its load balancer's.
    each<{ ResourceArn?: string; Tags?: Tagged }>(o.TagDescriptions, (d) => {
      if (d.ResourceArn && elbResource(d.ResourceArn).id === d.ResourceArn) observe(elbResource(d.ResourceArn), tagsFromAws(d.Tags));
    });
  } else if (service === 'autoscaling' && operation === 'DescribeAutoScalingGroups') {
    each<{ AutoScalingGroupName?: string; Tags?: Tagged }>(o.AutoScalingGroups, (g) => g.AutoScalingGroupName && observe(asgResource(g.AutoScalingGroupName), tagsFromAws(g.Tags)));
  }
  return seen;
}
