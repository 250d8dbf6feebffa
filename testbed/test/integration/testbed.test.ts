import { AutoScalingClient, DescribeAutoScalingGroupsCommand, SetDesiredCapacityCommand, TerminateInstanceInAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { AppsV1Api, CoordinationV1Api, CoreV1Api, StorageV1Api, type V1Node } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readState } from '../../src/testbed.ts';
import { testbedEnv, testbedKubeConfig } from '../../src/testing.ts';

const env = testbedEnv();
Object.assign(process.env, env.env);
const kc = testbedKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);
const coord = kc.makeApiClient(CoordinationV1Api);
const storage = kc.makeApiClient(StorageV1Api);
const ec2 = new EC2Client({ region: env.region });
const asg = new AutoScalingClient({ region: env.region });
const state = readState()!;
const NS = 'testbed-it';

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const ready = (n: V1Node) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: NS } } }).catch(() => undefined);
});
afterAll(async () => {
  await core.deleteNamespace({ name: NS }).catch(() => undefined);
});

describe('testbed', () => {
  it('runs the suite on Node 24', () => {
    expect(process.versions.node.split('.')[0]).toBe('24');
  });

  it('registers a Node for each cluster instance, named after its private DNS name', async () => {
    const reservations = await ec2.send(new DescribeInstancesCommand({ InstanceIds: state.account!.instanceIds }));
    const instances = reservations.Reservations!.flatMap((r) => r.Instances!);
    expect(instances).toHaveLength(3);
    const nodes = (await core.listNode()).items;
    for (const i of instances) {
      expect(i.PrivateDnsName).toMatch(/^ip-192-168-19[2-5]-\d+\.cn-northwest-1\.compute\.internal$/);
      const node = nodes.find((n) => n.metadata!.name === i.PrivateDnsName);
      expect(node, `Node ${i.PrivateDnsName}`).toBeDefined();
      expect(node!.spec!.providerID).toBe(`aws:///${i.Placement!.AvailabilityZone}/${i.InstanceId}`);
      expect(node!.metadata!.labels).toMatchObject({
        'topology.kubernetes.io/zone': i.Placement!.AvailabilityZone,
        'topology.kubernetes.io/region': 'cn-northwest-1',
        'node.kubernetes.io/instance-type': i.InstanceType,
      });
      expect(node!.status!.addresses).toContainEqual({ type: 'InternalIP', address: i.PrivateIpAddress });
      expect(ready(node!)).toBe(true);
      const lease = await coord.readNamespacedLease({ name: node!.metadata!.name!, namespace: 'kube-node-lease' });
      expect(Date.now() - new Date(lease.spec!.renewTime!).getTime()).toBeLessThan(30_000);
    }
    // Standing in for the EBS node plugin's registration: CSINode with the instance ID and attach limit.
    for (const i of instances) {
      const csi = await storage.readCSINode({ name: i.PrivateDnsName! });
      const driver = csi.spec.drivers.find((d) => d.name === 'ebs.kube-iaas.dev')!;
      expect(driver.nodeID).toBe(i.InstanceId);
      expect(driver.topologyKeys).toEqual(['topology.kubernetes.io/zone']);
      // Nitro's 28 shared slots less the primary ENI and the root volume.
      expect(driver.allocatable!.count).toBe(26);
    }
    // The article's node and the facts DescribeInstanceTypes gives for it.
    const article = nodes.find((n) => n.metadata!.name === 'ip-192-168-193-194.cn-northwest-1.compute.internal')!;
    expect(article.status!.capacity).toMatchObject({ cpu: '2', memory: '4Gi', pods: '29' }); // apiserver canonicalises 4194304Ki
    const xlarge = nodes.find((n) => n.metadata!.labels!['node.kubernetes.io/instance-type'] === 'c5.xlarge')!;
    expect(xlarge.status!.capacity).toMatchObject({ cpu: '4', pods: '58' });
  });

  it('lets the real scheduler place a Deployment and reports its pods Running', async () => {
    await apps.createNamespacedDeployment({
      namespace: NS,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 6,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'nginx', image: 'nginx', resources: { requests: { cpu: '100m' } } }] },
          },
        },
      },
    });
    const nodeNames = new Set((await core.listNode()).items.map((n) => n.metadata!.name!));
    const pods = await until('6 running pods', async () => {
      const list = (await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=web' })).items;
      return list.length === 6 && list.every((p) => p.status?.phase === 'Running') && list;
    });
    for (const p of pods) {
      expect(nodeNames.has(p.spec!.nodeName!)).toBe(true);
      expect(p.status!.podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(p.status!.conditions!.find((c) => c.type === 'Ready')!.status).toBe('True');
    }
    // Spread over more than one node by the scheduler's default scoring.
    expect(new Set(pods.map((p) => p.spec!.nodeName)).size).toBeGreaterThan(1);
    expect(new Set(pods.map((p) => p.status!.podIP)).size).toBe(6);

    await apps.deleteNamespacedDeployment({ name: 'web', namespace: NS });
    await until('pods gone', async () => (await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=web' })).items.length === 0);
  });

  it('adds a Node when the ASG grows and removes it when its instance terminates', async () => {
    const asgName = state.account!.asgName;
    const before = new Set((await core.listNode()).items.map((n) => n.metadata!.name!));
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: asgName, DesiredCapacity: 1, HonorCooldown: false }));
    const group = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [asgName] }))).AutoScalingGroups![0]!;
    const instanceId = group.Instances![0]!.InstanceId!;
    const node = await until('a node for the ASG instance', async () =>
      (await core.listNode()).items.find((n) => !before.has(n.metadata!.name!) && n.spec!.providerID!.endsWith(`/${instanceId}`) && ready(n)),
    );
    expect(node.metadata!.name).toMatch(/\.cn-northwest-1\.compute\.internal$/);
    expect(node.metadata!.labels!['node.kubernetes.io/instance-type']).toBe('c5.large');

    await asg.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: instanceId, ShouldDecrementDesiredCapacity: true }));
    await until('the node to be removed', async () => !(await core.listNode()).items.some((n) => n.metadata!.name === node.metadata!.name));
    expect((await core.listNode()).items.map((n) => n.metadata!.name).sort()).toEqual([...before].sort());
  });

  it('gives the baseline security group no cluster tag and the cluster group both', async () => {
    const a = state.account!;
    const groups = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [a.baselineSecurityGroupId, a.clusterSecurityGroupId] }))).SecurityGroups!;
    const baseline = groups.find((g) => g.GroupId === a.baselineSecurityGroupId)!;
    const cluster = groups.find((g) => g.GroupId === a.clusterSecurityGroupId)!;
    const keys = (g: typeof baseline) => (g.Tags ?? []).map((t) => t.Key!);
    expect(keys(baseline).filter((k) => k === 'KubernetesCluster' || k.startsWith('kubernetes.io/cluster/'))).toEqual([]);
    expect(keys(cluster)).toEqual(expect.arrayContaining(['KubernetesCluster', 'kubernetes.io/cluster/int32bit-kubernetes']));
  });
});
