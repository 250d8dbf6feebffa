// Runs the real operator (src/main.ts as a child process) against the testbed, and reads Kubernetes
// and moto directly to check what it did. No fakes.
import { fileURLToPath } from 'node:url';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client, DescribeListenersCommand, DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { KubeClient } from '@kube-iaas/core/runtime';
import { matchesCluster, type Tags } from '@kube-iaas/core/tags';
import { describeLoadBalancers, describeTargetGroups } from '@kube-iaas/elbv2';
import { OperatorProcess as TestbedOperator, testbedEnv, testbedKubeConfig } from '@kube-iaas/testbed/testing';

export { freePort, mutatingDelta, waitFor } from '@kube-iaas/testbed/testing';

export const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

/** The operator's entry point run as a child process, with the flags every test wants. */
export const OperatorProcess = {
  start: (extraArgs: string[] = []): Promise<TestbedOperator> => TestbedOperator.start(MAIN, ['--leader-elect=false', '--orphan-sweep-interval=2s', '--resync-period=1h', ...extraArgs]),
};
export type OperatorProcess = TestbedOperator;

export function clients() {
  Object.assign(process.env, testbedEnv().env);
  return {
    kube: new KubeClient(testbedKubeConfig()),
    elbv2: new ElasticLoadBalancingV2Client({}),
    ec2: new EC2Client({}),
    asg: new AutoScalingClient({}),
  };
}

export type Clients = ReturnType<typeof clients>;

/** Every load balancer and target group in moto tagged for this cluster by kube-iaas. */
export async function ourElbResources(c: Clients, cluster: string, filter: (tags: Tags) => boolean = () => true) {
  const match = (t: Tags) => matchesCluster(cluster)(t) && filter(t);
  const [lbs, tgs] = await Promise.all([describeLoadBalancers(c.elbv2, { match }), describeTargetGroups(c.elbv2, { match })]);
  return { lbs, tgs };
}

export async function listenersOf(c: Clients, lbArn: string) {
  return (await c.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lbArn }))).Listeners ?? [];
}

export async function targetsOf(c: Clients, tgArn: string) {
  return ((await c.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tgArn }))).TargetHealthDescriptions ?? []).map((d) => ({ id: d.Target?.Id ?? '', port: d.Target?.Port }));
}
