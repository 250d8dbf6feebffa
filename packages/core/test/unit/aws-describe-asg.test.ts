import { describe, expect, it } from 'vitest';
import { toAutoScalingGroup } from '../../src/aws/autoscaling.ts';

describe('toAutoScalingGroup', () => {
  it('a launch-template group has no mixed types and no launch configuration', () => {
    const g = toAutoScalingGroup({
      AutoScalingGroupName: 'nodes',
      MinSize: 0,
      MaxSize: 10,
      DesiredCapacity: 2,
      LaunchTemplate: { LaunchTemplateName: 'lt', Version: '$Latest' },
      DefaultCooldown: 300,
      AvailabilityZones: ['cn-northwest-1a'],
      HealthCheckType: 'EC2',
      CreatedTime: new Date(0),
    });
    expect(g.launchTemplate).toEqual({ name: 'lt', version: '$Latest' });
    expect(g).not.toHaveProperty('mixedInstanceTypes');
    expect(g).not.toHaveProperty('launchConfigurationName');
  });

  it('a mixed-instances group lists every override type and the template of its policy', () => {
    const g = toAutoScalingGroup({
      AutoScalingGroupName: 'mixed',
      MinSize: 0,
      MaxSize: 10,
      DesiredCapacity: 0,
      MixedInstancesPolicy: {
        LaunchTemplate: {
          LaunchTemplateSpecification: { LaunchTemplateId: 'lt-1', Version: '3' },
          Overrides: [{ InstanceType: 'c5.large' }, { InstanceType: 'm5.large' }, {}],
        },
      },
      DefaultCooldown: 300,
      AvailabilityZones: [],
      HealthCheckType: 'EC2',
      CreatedTime: new Date(0),
    });
    expect(g.mixedInstanceTypes).toEqual(['c5.large', 'm5.large']);
    expect(g.launchTemplate).toEqual({ id: 'lt-1', version: '3' });
  });

  it('a mixed-instances policy without overrides gives an empty list; a launch configuration is named', () => {
    const base = { MinSize: 0, MaxSize: 1, DesiredCapacity: 0, DefaultCooldown: 300, AvailabilityZones: [], HealthCheckType: 'EC2', CreatedTime: new Date(0) };
    expect(toAutoScalingGroup({ ...base, AutoScalingGroupName: 'm', MixedInstancesPolicy: { LaunchTemplate: { LaunchTemplateSpecification: { LaunchTemplateName: 'lt' } } } }).mixedInstanceTypes).toEqual([]);
    expect(toAutoScalingGroup({ ...base, AutoScalingGroupName: 'lc', LaunchConfigurationName: 'old-nodes' }).launchConfigurationName).toBe('old-nodes');
  });
});
