import {
  DescribeAutoScalingGroupsCommand,
  DescribeLaunchConfigurationsCommand,
  DescribeScalingActivitiesCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  type AutoScalingClient,
  type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import { DescribeLaunchTemplateVersionsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { autoscalerDiscoveryFilters, tagsFromAws, type Tags } from '@kube-iaas/core';
import type { LaunchInfo } from '../template/build.ts';

/**
 * What the scaler reads of an Auto Scaling group. core's `AutoScalingGroup` (aws/describe.ts) lacks the
 * mixed-instances overrides and the launch configuration name.
 * TODO(core): move to core — add `mixedInstanceTypes` and `launchConfigurationName` to core's
 * `AutoScalingGroup` / `toAutoScalingGroup`, then use `describeAutoScalingGroups` here.
 */
export interface AsgView {
  name: string;
  arn?: string | undefined;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  zones: string[];
  tags: Tags;
  instances: { id: string; zone?: string | undefined; lifecycleState?: string | undefined; instanceType?: string | undefined }[];
  launchTemplate?: { id?: string | undefined; name?: string | undefined; version?: string | undefined } | undefined;
  launchConfigurationName?: string | undefined;
  /** Instance types of a mixed-instances policy's overrides (empty when it has none or is not mixed). */
  mixedInstanceTypes?: string[] | undefined;
  mixed: boolean;
}

export function toAsgView(g: AutoScalingGroup): AsgView {
  const mixed = g.MixedInstancesPolicy;
  const lt = g.LaunchTemplate ?? mixed?.LaunchTemplate?.LaunchTemplateSpecification;
  return {
    name: g.AutoScalingGroupName ?? '',
    arn: g.AutoScalingGroupARN,
    minSize: g.MinSize ?? 0,
    maxSize: g.MaxSize ?? 0,
    desiredCapacity: g.DesiredCapacity ?? 0,
    zones: g.AvailabilityZones ?? [],
    tags: tagsFromAws(g.Tags),
    instances: (g.Instances ?? []).map((i) => ({ id: i.InstanceId ?? '', zone: i.AvailabilityZone, lifecycleState: i.LifecycleState, instanceType: i.InstanceType })),
    launchTemplate: lt ? { id: lt.LaunchTemplateId, name: lt.LaunchTemplateName, version: lt.Version } : undefined,
    launchConfigurationName: g.LaunchConfigurationName,
    mixedInstanceTypes: mixed ? (mixed.LaunchTemplate?.Overrides ?? []).map((o) => o.InstanceType).filter((t): t is string => !!t) : undefined,
    mixed: !!mixed,
  };
}

/** The groups with these names (50 a call, the API's limit); missing names are absent. */
export async function describeGroups(asg: AutoScalingClient, names: readonly string[]): Promise<Map<string, AsgView>> {
  const out = new Map<string, AsgView>();
  const unique = [...new Set(names)];
  for (let i = 0; i < unique.length; i += 50) {
    let NextToken: string | undefined;
    do {
      const res = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: unique.slice(i, i + 50), NextToken, MaxRecords: 100 }));
      for (const g of res.AutoScalingGroups ?? []) out.set(g.AutoScalingGroupName ?? '', toAsgView(g));
      NextToken = res.NextToken;
    } while (NextToken);
  }
  return out;
}

/** The groups carrying the cluster autoscaler's discovery tags for this cluster. */
export async function discoverGroups(asg: AutoScalingClient, cluster: string): Promise<AsgView[]> {
  const out: AsgView[] = [];
  let NextToken: string | undefined;
  do {
    const res = await asg.send(new DescribeAutoScalingGroupsCommand({ Filters: autoscalerDiscoveryFilters(cluster), NextToken, MaxRecords: 100 }));
    for (const g of res.AutoScalingGroups ?? []) out.push(toAsgView(g));
    NextToken = res.NextToken;
  } while (NextToken);
  return out;
}

/** Reads launch templates / configurations, cached (a `$Latest` / `$Default` version is re-read after the TTL). */
export class LaunchInfoReader {
  readonly #ec2: EC2Client;
  readonly #asg: AutoScalingClient;
  readonly #ttlMs: number;
  readonly #cache = new Map<string, { info: Promise<LaunchInfo>; expires: number }>();

  constructor(ec2: EC2Client, asg: AutoScalingClient, ttlMs = 60_000) {
    this.#ec2 = ec2;
    this.#asg = asg;
    this.#ttlMs = ttlMs;
  }

  read(g: AsgView): Promise<LaunchInfo> {
    const key = JSON.stringify([g.launchTemplate, g.launchConfigurationName, g.mixedInstanceTypes]);
    const hit = this.#cache.get(key);
    if (hit && hit.expires > Date.now()) return hit.info;
    const info = this.#read(g);
    this.#cache.set(key, { info, expires: Date.now() + this.#ttlMs });
    info.catch(() => this.#cache.delete(key));
    return info;
  }

  async #read(g: AsgView): Promise<LaunchInfo> {
    if (g.launchTemplate) {
      const lt = g.launchTemplate;
      const res = await this.#ec2.send(
        new DescribeLaunchTemplateVersionsCommand({
          ...(lt.id ? { LaunchTemplateId: lt.id } : { LaunchTemplateName: lt.name }),
          Versions: [lt.version ?? '$Default'],
        }),
      );
      const data = res.LaunchTemplateVersions?.[0]?.LaunchTemplateData;
      const root = data?.BlockDeviceMappings?.find((b) => b.Ebs?.VolumeSize !== undefined)?.Ebs?.VolumeSize;
      const types = g.mixed && g.mixedInstanceTypes?.length ? g.mixedInstanceTypes : data?.InstanceType ? [data.InstanceType] : [];
      return { source: g.mixed ? 'mixed-instances' : 'launch-template', instanceTypes: types, rootVolumeGiB: root };
    }
    if (g.launchConfigurationName) {
      const res = await this.#asg.send(new DescribeLaunchConfigurationsCommand({ LaunchConfigurationNames: [g.launchConfigurationName] }));
      const lc = res.LaunchConfigurations?.[0];
      const root = lc?.BlockDeviceMappings?.find((b) => b.Ebs?.VolumeSize !== undefined)?.Ebs?.VolumeSize;
      return { source: 'launch-configuration', instanceTypes: lc?.InstanceType ? [lc.InstanceType] : [], rootVolumeGiB: root };
    }
    return { source: 'launch-template', instanceTypes: [] };
  }
}

/** Raises (or lowers) the desired capacity, at once (HonorCooldown=false). Passes core's ownership guard. */
export async function setDesiredCapacity(asg: AutoScalingClient, name: string, desired: number): Promise<void> {
  await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: name, DesiredCapacity: desired, HonorCooldown: false }));
}

/** Terminates one instance and shrinks the group by one. Passes core's ownership guard. */
export async function terminateInstance(asg: AutoScalingClient, instanceId: string): Promise<void> {
  await asg.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: instanceId, ShouldDecrementDesiredCapacity: true }));
}

/** Scaling activities that failed since `since` (launch errors, capacity shortages): the group should back off. */
export async function failedActivities(asg: AutoScalingClient, name: string, since: Date): Promise<{ description: string; message: string }[]> {
  const res = await asg.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: name, MaxRecords: 20 }));
  return (res.Activities ?? [])
    .filter((a) => (a.StatusCode === 'Failed' || a.StatusCode === 'Cancelled') && (a.StartTime ?? new Date(0)) >= since)
    .map((a) => ({ description: a.Description ?? '', message: a.StatusMessage ?? a.Cause ?? '' }));
}

/** `aws:///cn-northwest-1a/i-0123` → `i-0123`. */
export function instanceIdFromProviderId(providerId: string | undefined): string | undefined {
  const m = /^aws:\/\/\/[^/]*\/(i-[0-9a-zA-Z]+)$/.exec(providerId ?? '');
  return m?.[1];
}
