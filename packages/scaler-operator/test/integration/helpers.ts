import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateCommand, DeleteLaunchTemplateCommand, DescribeLaunchTemplateVersionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { autoscalerDiscoveryTags, clusterTagKey, nodeTemplateTags } from '@kube-iaas/core/tags';
import { createAwsClients } from '@kube-iaas/core/aws';
import { KubeClient, type KubeObject, type ResourceType } from '@kube-iaas/core/runtime';
import { KUBELET_RESERVED, readState } from '@kube-iaas/testbed';
import { operatorIdentityEnv, operatorKubeConfig, testbedEnv, testbedKubeConfig, waitFor } from '@kube-iaas/testbed/testing';
import { scalerMetrics } from '../../src/metrics.ts';
import { ScalerOperator } from '../../src/operator.ts';

export const DEPLOYMENT: ResourceType = { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespaced: true };
export const NAMESPACE: ResourceType = { apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false };
export const POD: ResourceType = { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true };
export const NODE: ResourceType = { apiVersion: 'v1', kind: 'Node', plural: 'nodes', namespaced: false };
export const EVENT: ResourceType = { apiVersion: 'v1', kind: 'Event', plural: 'events', namespaced: true };
export const PDB: ResourceType = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', namespaced: true };
export const NG: ResourceType = { apiVersion: 'autoscaling.kube-iaas.dev/v1alpha1', kind: 'NodeGroup', plural: 'nodegroups', namespaced: false };

export const TESTBED_ASG = 'int32bit-kubernetes-nodes';

/** Testbed-only ASG tags the node simulator reads (testbed/README.md): instances never join / join late. */
export { JOIN_DELAY_TAG, NEVER_JOIN_TAG } from '@kube-iaas/testbed';

/** Points the AWS SDK (default chain, AWS_ENDPOINT_URL) at the testbed's moto, as `npm run testbed -- env` does. */
export function useTestbedEnv(): ReturnType<typeof testbedEnv> {
  const env = testbedEnv();
  for (const [k, v] of Object.entries(env.env)) process.env[k] = v;
  return env;
}

export function clients(): { kube: KubeClient; asg: AutoScalingClient; ec2: EC2Client } {
  useTestbedEnv();
  return { kube: new KubeClient(testbedKubeConfig()), asg: new AutoScalingClient({}), ec2: new EC2Client({}) };
}

/** The operator in-process, with the testbed's kubelet reservations and short timings. */
export async function startOperator(extra: string[] = []): Promise<ScalerOperator> {
  useTestbedEnv();
  // In-process, but as itself: its ServiceAccount's kubeconfig and its IAM user's keys (this process's
  // default chain stays the tests' administrator).
  const id = operatorIdentityEnv('scaler-operator');
  const credentials = id.AWS_ACCESS_KEY_ID && id.AWS_SECRET_ACCESS_KEY ? { accessKeyId: id.AWS_ACCESS_KEY_ID, secretAccessKey: id.AWS_SECRET_ACCESS_KEY } : undefined;
  const op = new ScalerOperator({
    kubeConfig: operatorKubeConfig('scaler-operator'),
    ...(credentials ? { aws: await createAwsClients({ cluster: testbedEnv().clusterName, credentials }) } : {}),
    argv: [
      '--no-leader-elect',
      '--metrics-bind-address=0',
      `--log-level=${process.env.SCALER_TEST_LOG_LEVEL ?? 'warn'}`,
      '--scan-interval=1s',
      '--batch-idle=500ms',
      '--batch-max=5s',
      `--reserved-cpu=${KUBELET_RESERVED.cpuMillis}m`,
      `--reserved-memory=${KUBELET_RESERVED.memoryMiB}Mi`,
      `--reserved-ephemeral-storage=${KUBELET_RESERVED.ephemeralGiB}Gi`,
      ...extra,
    ],
    env: { CLUSTER_NAME: testbedEnv().clusterName },
  });
  await op.start();
  return op;
}

export { waitFor };

/**
 * Resolves once `n` whole scaler runs have started and finished since the call (a run already under
 * way when it is called does not count): how a test waits for "several runs later" instead of sleeping.
 */
export async function afterRuns(n: number, timeoutMs = 30_000): Promise<void> {
  const runs = async (): Promise<number> => (await scalerMetrics.runSeconds.get()).values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
  const start = await runs();
  await waitFor(`${n} scaler runs`, async () => ((await runs()) >= start + n + 1 ? true : undefined), timeoutMs);
}

export async function asgOf(asg: AutoScalingClient, name: string) {
  const g = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }))).AutoScalingGroups?.[0];
  if (!g) throw new Error(`ASG ${name} not found`);
  return g;
}

/** Puts the testbed's ASG back as seeded: desired 0, min 0, max 10; waits for its Nodes to go. */
export async function resetTestbedAsg(asg: AutoScalingClient, kube: KubeClient): Promise<void> {
  await asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: TESTBED_ASG, MinSize: 0, MaxSize: 10 }));
  await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: TESTBED_ASG, DesiredCapacity: 0, HonorCooldown: false }));
  await waitFor('testbed nodes only', async () => (await kube.list(NODE)).items.length === 3, 60_000);
}

export function deployment(ns: string, name: string, replicas: number, cpu: string, memory: string, podSpec: Record<string, unknown> = {}, podLabels: Record<string, string> = {}): KubeObject & Record<string, unknown> {
  const labels = { app: name, ...podLabels };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels },
        spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'nginx', image: 'nginx:1.27', resources: { requests: { cpu, memory } } }], ...podSpec },
      },
    },
  };
}

export async function createNamespace(kube: KubeClient, ns: string): Promise<void> {
  await kube.create(NAMESPACE, { metadata: { name: ns } }).catch(() => undefined);
}

export async function deleteNamespace(kube: KubeClient, ns: string): Promise<void> {
  await kube.delete(NAMESPACE, { name: ns }).catch(() => undefined);
  // pods go with grace 0 through the simulator; wait for them so later tests start from a clean cluster
  await waitFor(`pods of ${ns} gone`, async () => (await kube.list(POD, { namespace: ns })).items.length === 0, 60_000).catch(() => undefined);
}

export interface PodJson extends KubeObject {
  spec?: { nodeName?: string };
  status?: { phase?: string };
}

export async function podsOf(kube: KubeClient, ns: string, app: string): Promise<PodJson[]> {
  return (await kube.list<PodJson>(POD, { namespace: ns, labelSelector: `app=${app}` })).items;
}

export async function eventsOf(kube: KubeClient, ns: string, reason: string): Promise<{ message?: string; involvedObject?: { name?: string } }[]> {
  const list = await kube.list<KubeObject & { reason?: string; message?: string; involvedObject?: { name?: string } }>(EVENT, { namespace: ns });
  return list.items.filter((e) => e.reason === reason);
}

export interface TestAsgOptions {
  name: string;
  instanceType: string;
  /** `a` for the first private subnet only, `both` for both. */
  zones: 'a' | 'both';
  /** Extra ASG tags (not propagated), e.g. node-template tags. */
  tags?: Record<string, string>;
  /** Tags propagated to instances; the cluster tag by default (what makes the simulator register them). */
  instanceTags?: Record<string, string>;
  min?: number;
  max?: number;
}

/** A launch template + ASG in the testbed's account, for scale-from-zero and two-group tests. */
export async function createTestAsg(asg: AutoScalingClient, ec2: EC2Client, o: TestAsgOptions): Promise<void> {
  const account = readState()?.account;
  if (!account) throw new Error('testbed state has no seeded account');
  const lt = await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: account.launchTemplateName, Versions: ['$Latest'] }));
  const base = lt.LaunchTemplateVersions?.[0]?.LaunchTemplateData;
  await ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: `lt-${o.name}`, LaunchTemplateData: { ImageId: base?.ImageId, InstanceType: o.instanceType as never, UserData: base?.UserData } }));
  const subnets = account.subnets.filter((s) => s.role === 'private').sort((a, b) => a.zone.localeCompare(b.zone));
  const chosen = o.zones === 'a' ? subnets.slice(0, 1) : subnets;
  const cluster = testbedEnv().clusterName;
  const instanceTags = o.instanceTags ?? { [clusterTagKey(cluster)]: 'owned' };
  await asg.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: o.name,
      MinSize: o.min ?? 0,
      MaxSize: o.max ?? 5,
      DesiredCapacity: 0,
      VPCZoneIdentifier: chosen.map((s) => s.id).join(','),
      LaunchTemplate: { LaunchTemplateName: `lt-${o.name}`, Version: '$Latest' },
      Tags: [
        ...Object.entries(o.tags ?? {}).map(([Key, Value]) => ({ Key, Value, PropagateAtLaunch: false })),
        ...Object.entries(instanceTags).map(([Key, Value]) => ({ Key, Value, PropagateAtLaunch: true })),
      ],
    }),
  );
}

export async function deleteTestAsg(asg: AutoScalingClient, ec2: EC2Client, kube: KubeClient, name: string): Promise<void> {
  await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: name, DesiredCapacity: 0, HonorCooldown: false })).catch(() => undefined);
  await asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: name, MinSize: 0 })).catch(() => undefined);
  await asg.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: name, ForceDelete: true })).catch(() => undefined);
  await ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateName: `lt-${name}` })).catch(() => undefined);
  await kube.delete(NG, { name }).catch(() => undefined);
}

export { autoscalerDiscoveryTags, clusterTagKey, nodeTemplateTags };
