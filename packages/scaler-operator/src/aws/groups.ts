import {
  DescribeLaunchConfigurationsCommand,
  DescribeScalingActivitiesCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingClient,
} from '@aws-sdk/client-auto-scaling';
import { DescribeLaunchTemplateVersionsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { describeAutoScalingGroups, discoverAutoscalerGroups, parseProviderId, type AutoScalingGroup } from '@kube-iaas/core/aws';
import type { LaunchInfo } from '../template/build.ts';

/** What the scaler reads of an Auto Scaling group: core's view (with mixed-instance types and launch configuration). */
export type AsgView = AutoScalingGroup;

/** The groups with these names (50 names a call); missing names are absent. */
export async function describeGroups(asg: AutoScalingClient, names: readonly string[]): Promise<Map<string, AsgView>> {
  const out = new Map<string, AsgView>();
  const unique = [...new Set(names)];
  for (let i = 0; i < unique.length; i += 50) {
    for (const g of await describeAutoScalingGroups(asg, { names: unique.slice(i, i + 50) })) out.set(g.name, g);
  }
  return out;
}

/** The groups carrying the cluster autoscaler's discovery tags for this cluster. */
export function discoverGroups(asg: AutoScalingClient, cluster: string): Promise<AsgView[]> {
  return discoverAutoscalerGroups(asg, cluster);
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
      const mixed = g.mixedInstanceTypes !== undefined;
      const types = g.mixedInstanceTypes?.length ? g.mixedInstanceTypes : data?.InstanceType ? [data.InstanceType] : [];
      return { source: mixed ? 'mixed-instances' : 'launch-template', instanceTypes: types, rootVolumeGiB: root };
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

export interface AsgLimits {
  MinSize: number;
  MaxSize: number;
  /** Only when the current desired capacity falls outside the new limits: clamped into them. */
  DesiredCapacity?: number;
}

/**
 * What `spec.manageAsgLimits` asks to write onto the ASG, or undefined when nothing: the operator
 * changes the ASG's own MinSize/MaxSize only when the spec says so, and only when they differ. The
 * desired capacity is clamped explicitly rather than left to AWS's implicit adjustment.
 */
export function asgLimitsUpdate(
  spec: { manageAsgLimits?: boolean | undefined; minSize?: number | undefined; maxSize?: number | undefined },
  asg: { minSize: number; maxSize: number; desiredCapacity: number },
): AsgLimits | undefined {
  if (spec.manageAsgLimits !== true || spec.minSize === undefined || spec.maxSize === undefined || spec.minSize > spec.maxSize) return undefined;
  if (asg.minSize === spec.minSize && asg.maxSize === spec.maxSize) return undefined;
  const clamped = Math.min(spec.maxSize, Math.max(spec.minSize, asg.desiredCapacity));
  return { MinSize: spec.minSize, MaxSize: spec.maxSize, ...(clamped !== asg.desiredCapacity ? { DesiredCapacity: clamped } : {}) };
}

/** Writes MinSize/MaxSize (a size-only UpdateAutoScalingGroup: a `scale` change for the ownership guard). */
export async function updateAsgLimits(asg: AutoScalingClient, name: string, limits: AsgLimits): Promise<void> {
  await asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: name, ...limits }));
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

/** The instance a Node's providerID names (core's one providerID parser). */
export const instanceIdFromProviderId = (providerId: string | undefined): string | undefined => parseProviderId(providerId)?.instanceId;
