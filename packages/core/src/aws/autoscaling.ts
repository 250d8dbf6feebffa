// Auto Scaling group reads: the groups by name or filters, and those the cluster autoscaler would discover.
import { paginateDescribeAutoScalingGroups, type AutoScalingClient, type AutoScalingGroup as SdkAutoScalingGroup, type Filter as AsgFilter } from '@aws-sdk/client-auto-scaling';
import { autoscalerDiscoveryFilters, tagsFromAws, type Tags } from '../tags/tags.ts';
import { def } from './describe.ts';

export interface AutoScalingGroup {
  name: string;
  arn?: string;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  availabilityZones: string[];
  subnetIds: string[];
  launchTemplate?: { id?: string; name?: string; version?: string };
  /** Set when the group launches from a launch configuration instead of a template. */
  launchConfigurationName?: string;
  /**
   * Present only for a group with a mixed-instances policy: the instance types of its overrides (empty
   * when the policy has none, so the template's own type applies).
   */
  mixedInstanceTypes?: string[];
  instances: { id: string; availabilityZone?: string; lifecycleState?: string; healthStatus?: string; instanceType?: string; protectedFromScaleIn?: boolean }[];
  tags: Tags;
}

export function toAutoScalingGroup(g: SdkAutoScalingGroup): AutoScalingGroup {
  const lt = g.LaunchTemplate ?? g.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
  return def({
    name: g.AutoScalingGroupName ?? '',
    arn: g.AutoScalingGroupARN,
    minSize: g.MinSize ?? 0,
    maxSize: g.MaxSize ?? 0,
    desiredCapacity: g.DesiredCapacity ?? 0,
    availabilityZones: g.AvailabilityZones ?? [],
    subnetIds: (g.VPCZoneIdentifier ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    launchTemplate: lt ? def({ id: lt.LaunchTemplateId, name: lt.LaunchTemplateName, version: lt.Version }) : undefined,
    launchConfigurationName: g.LaunchConfigurationName,
    mixedInstanceTypes: g.MixedInstancesPolicy
      ? (g.MixedInstancesPolicy.LaunchTemplate?.Overrides ?? []).map((o) => o.InstanceType).filter((t): t is string => !!t)
      : undefined,
    instances: (g.Instances ?? []).map((i) =>
      def({
        id: i.InstanceId ?? '',
        availabilityZone: i.AvailabilityZone,
        lifecycleState: i.LifecycleState,
        healthStatus: i.HealthStatus,
        instanceType: i.InstanceType,
        protectedFromScaleIn: i.ProtectedFromScaleIn,
      }),
    ),
    tags: tagsFromAws(g.Tags),
  });
}

export async function describeAutoScalingGroups(asg: AutoScalingClient, q: { names?: string[]; filters?: AsgFilter[] } = {}): Promise<AutoScalingGroup[]> {
  const out: AutoScalingGroup[] = [];
  const input = { ...(q.names?.length ? { AutoScalingGroupNames: q.names } : {}), ...(q.filters?.length ? { Filters: q.filters } : {}) };
  for await (const page of paginateDescribeAutoScalingGroups({ client: asg, pageSize: 100 }, input)) out.push(...(page.AutoScalingGroups ?? []).map(toAutoScalingGroup));
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Auto Scaling groups the cluster autoscaler would discover for this cluster. */
export function discoverAutoscalerGroups(asg: AutoScalingClient, cluster: string): Promise<AutoScalingGroup[]> {
  return describeAutoScalingGroups(asg, { filters: autoscalerDiscoveryFilters(cluster) });
}
