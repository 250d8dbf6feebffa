/**
 * Smoke test of the client factory against the testbed's AWS (moto): endpoints come from
 * AWS_ENDPOINT_URL alone, calls are counted, and the typed helpers read the seeded account.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testbedEnv } from '@kube-iaas/testbed/testing';
import {
  InstanceTypeCatalog,
  createAwsClients,
  describeInstances,
  describeSubnets,
  discoverAutoscalerGroups,
  discoverLoadBalancerSubnets,
  measureAwsCalls,
  metricsRegistry,
  type AwsClients,
} from '../../src/index.ts';

const savedEnv = { ...process.env };
let clients: AwsClients;
let cluster: string;

beforeAll(async () => {
  const tb = testbedEnv();
  expect(tb.env.AWS_ENDPOINT_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  Object.assign(process.env, tb.env);
  cluster = tb.clusterName;
  // No endpoint, no region, no keys in the config: all from the environment, as in production.
  clients = await createAwsClients({ cluster });
});

afterAll(() => {
  clients?.destroy();
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
  Object.assign(process.env, savedEnv);
});

describe('AWS clients on the testbed', () => {
  it('reach moto through AWS_ENDPOINT_URL and count every call', async () => {
    expect(clients.region).toBe('cn-northwest-1');
    expect(clients.partition).toBe('aws-cn');
    const { result, stats } = await measureAwsCalls(async () => {
      const subnets = await describeSubnets(clients.ec2, { filters: [{ Name: 'tag-key', Values: [`kubernetes.io/cluster/${cluster}`] }] });
      const vpcId = subnets[0]!.vpcId;
      const pub = await discoverLoadBalancerSubnets(clients.ec2, { cluster, scheme: 'internet-facing', vpcId });
      const priv = await discoverLoadBalancerSubnets(clients.ec2, { cluster, scheme: 'internal', vpcId });
      return { subnets, pub, priv, account: await clients.accountId() };
    });
    expect(result.subnets.length).toBeGreaterThanOrEqual(4);
    expect(result.pub.map((s) => s.availabilityZone)).toEqual(['cn-northwest-1a', 'cn-northwest-1b']);
    expect(result.priv.map((s) => s.availabilityZone)).toEqual(['cn-northwest-1a', 'cn-northwest-1b']);
    expect(result.pub.every((s) => s.tags['kubernetes.io/role/elb'] === '1')).toBe(true);
    expect(result.priv.every((s) => s.tags['kubernetes.io/role/internal-elb'] === '1')).toBe(true);
    expect(result.account).toMatch(/^\d{12}$/);
    expect(stats.byOperation()).toEqual({ 'ec2:DescribeSubnets': 3, 'sts:GetCallerIdentity': 1 });
    expect(stats.mutate).toBe(0);
    expect(stats.failed).toBe(0);
    expect(await metricsRegistry.metrics()).toMatch(/kube_iaas_aws_api_calls_total\{service="ec2",operation="DescribeSubnets",outcome="success"\} [1-9]/);
  });

  it('reads the seeded nodes, their instance types and the autoscaler group', async () => {
    const instances = await describeInstances(clients.ec2, { filters: [{ Name: `tag:kubernetes.io/cluster/${cluster}`, Values: ['owned'] }, { Name: 'instance-state-name', Values: ['running'] }] });
    const types = new Set(instances.map((i) => i.instanceType));
    expect(types).toEqual(new Set(['c5.large', 'c5.xlarge']));
    const catalog = new InstanceTypeCatalog(clients.ec2);
    const facts = await catalog.getMany([...types]);
    expect(facts.get('c5.large')).toMatchObject({ vcpus: 2, memoryMiB: 4096, maxEnis: 3, ipv4PerEni: 10, maxPods: 29, podAddressCapacity: 27, hypervisor: 'nitro' });
    expect(facts.get('c5.xlarge')).toMatchObject({ vcpus: 4, memoryMiB: 8192, maxEnis: 4, ipv4PerEni: 15, maxPods: 58, podAddressCapacity: 56 });
    const groups = await discoverAutoscalerGroups(clients.autoScaling, cluster);
    expect(groups.map((g) => g.name)).toEqual([`${cluster}-nodes`]);
    expect(groups[0]!.tags[`k8s.io/cluster-autoscaler/${cluster}`]).toBeDefined();
  });
});
