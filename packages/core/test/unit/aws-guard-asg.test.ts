/**
 * The ownership guard's Auto Scaling rules, with the clients stubbed at their `send` boundary: which
 * tags decide a TerminateInstanceInAutoScalingGroup (the group's, not the instance's).
 */
import { describe, expect, it } from 'vitest';
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { AwsError, OwnershipGuard } from '../../src/aws/index.ts';
import { OwnershipError } from '../../src/tags/index.ts';

const cluster = 'int32bit-kubernetes';
type TagMap = Record<string, string>;

function setup(world: { groups: Record<string, TagMap>; instances: Record<string, { group?: string; tags: TagMap }> }) {
  const calls: string[] = [];
  const aws = (tags: TagMap) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
  const autoScaling = {
    send: async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
      calls.push(`autoscaling:${cmd.constructor.name.replace(/Command$/, '')}`);
      if (cmd.constructor.name === 'DescribeAutoScalingInstancesCommand') {
        const ids = cmd.input.InstanceIds as string[];
        return { AutoScalingInstances: ids.filter((id) => world.instances[id]?.group).map((id) => ({ InstanceId: id, AutoScalingGroupName: world.instances[id]!.group })) };
      }
      if (cmd.constructor.name === 'DescribeAutoScalingGroupsCommand') {
        const name = (cmd.input.AutoScalingGroupNames as string[])[0]!;
        const tags = world.groups[name];
        return { AutoScalingGroups: tags ? [{ AutoScalingGroupName: name, Tags: aws(tags) }] : [] };
      }
      throw new Error(`unexpected ${cmd.constructor.name}`);
    },
  };
  const ec2 = {
    send: async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
      calls.push(`ec2:${cmd.constructor.name.replace(/Command$/, '')}`);
      const id = (cmd.input.InstanceIds as string[] | undefined)?.[0] ?? '';
      const i = world.instances[id];
      return { Reservations: i ? [{ Instances: [{ InstanceId: id, Tags: aws(i.tags) }] }] : [] };
    },
  };
  const guard = new OwnershipGuard({ cluster });
  guard.attach({ ec2: ec2 as unknown as EC2Client, elbv2: {} as ElasticLoadBalancingV2Client, autoScaling: autoScaling as unknown as AutoScalingClient });
  const terminate = (id: string) => guard.enforce('autoscaling', 'TerminateInstanceInAutoScalingGroup', { InstanceId: id, ShouldDecrementDesiredCapacity: true });
  return { guard, calls, terminate };
}

const discovery = { 'k8s.io/cluster-autoscaler/enabled': 'true', [`k8s.io/cluster-autoscaler/${cluster}`]: 'owned' };
const owned = { [`kubernetes.io/cluster/${cluster}`]: 'owned' };

describe('TerminateInstanceInAutoScalingGroup is judged by the instance group', () => {
  it('allows an untagged instance of a group the cluster autoscaler would discover', async () => {
    const { terminate, calls } = setup({ groups: { nodes: discovery }, instances: { 'i-1': { group: 'nodes', tags: {} } } });
    await expect(terminate('i-1')).resolves.toBeTypeOf('function');
    expect(calls).toEqual(['autoscaling:DescribeAutoScalingInstances', 'autoscaling:DescribeAutoScalingGroups']);
  });

  it('allows an instance of an owned group whatever the instance says', async () => {
    const { terminate } = setup({ groups: { nodes: owned }, instances: { 'i-1': { group: 'nodes', tags: { Name: 'no cluster tag' } } } });
    await expect(terminate('i-1')).resolves.toBeTypeOf('function');
  });

  it("refuses an instance tagged for this cluster when its group is not ours, naming the group", async () => {
    const { terminate } = setup({ groups: { 'someone-else': { Name: 'x' } }, instances: { 'i-2': { group: 'someone-else', tags: owned } } });
    const err = await terminate('i-2').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OwnershipError);
    expect(err).toMatchObject({ reason: 'untagged', resourceId: 'someone-else', resourceType: 'auto scaling group', operation: 'TerminateInstanceInAutoScalingGroup' });
  });

  it("refuses a group of another cluster", async () => {
    const { terminate } = setup({ groups: { theirs: { 'kubernetes.io/cluster/other': 'owned', 'k8s.io/cluster-autoscaler/enabled': 'true' } }, instances: { 'i-3': { group: 'theirs', tags: owned } } });
    await expect(terminate('i-3')).rejects.toBeInstanceOf(OwnershipError);
  });

  it('an instance in no group is not-found, and nothing is described on EC2', async () => {
    const { terminate, calls } = setup({ groups: {}, instances: { 'i-4': { tags: owned } } });
    const err = await terminate('i-4').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsError);
    expect(err).toMatchObject({ kind: 'not-found', message: 'instance i-4 is not in an Auto Scaling group' });
    expect(calls.some((c) => c.startsWith('ec2:'))).toBe(false);
  });

  it("reuses the group's tags from a describe seen before", async () => {
    const { guard, terminate, calls } = setup({ groups: { nodes: discovery }, instances: { 'i-1': { group: 'nodes', tags: {} } } });
    guard.observeOutput('autoscaling', 'DescribeAutoScalingGroups', { AutoScalingGroups: [{ AutoScalingGroupName: 'nodes', Tags: Object.entries(discovery).map(([Key, Value]) => ({ Key, Value })) }] });
    await terminate('i-1');
    expect(calls).toEqual(['autoscaling:DescribeAutoScalingInstances']);
  });
});
