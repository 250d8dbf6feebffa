// Runs the real operator (src/main.ts as a child process) against the testbed, and reads Kubernetes
// and moto directly to check what it did. No fakes.
import { fileURLToPath } from 'node:url';
import { DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeListenersCommand, DescribeRulesCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { V1Ingress } from '@kubernetes/client-node';
import type { ApplicationLoadBalancer } from '@kube-iaas/crds';
import { KubeClient, resources } from '@kube-iaas/core/runtime';
import { OWNER_KIND_TAG, matchesCluster, ownedByClusterFilters, type Tags } from '@kube-iaas/core/tags';
import { describeSecurityGroupRules, describeSecurityGroups } from '@kube-iaas/core/aws';
import { describeLoadBalancers, describeTargetGroups } from '@kube-iaas/elbv2';
import { OperatorProcess as TestbedOperator, testbedEnv, testbedKubeConfig, waitFor } from '@kube-iaas/testbed/testing';
import { ALB_RESOURCE } from '../../src/controllers/common.ts';

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

const isAlbOwned = (t: Tags) => t[OWNER_KIND_TAG] === 'ApplicationLoadBalancer';

/** Every ALB, target group and security group in moto tagged for this cluster by an ApplicationLoadBalancer. */
export async function ourAlbResources(c: Clients, cluster: string, filter: (tags: Tags) => boolean = () => true) {
  const match = (t: Tags) => matchesCluster(cluster)(t) && isAlbOwned(t) && filter(t);
  const [lbs, tgs, sgs] = await Promise.all([
    describeLoadBalancers(c.elbv2, { match }),
    describeTargetGroups(c.elbv2, { match }),
    describeSecurityGroups(c.ec2, { filters: ownedByClusterFilters(cluster) }).then((gs) => gs.filter((g) => match(g.tags))),
  ]);
  return { lbs, tgs, sgs };
}

export async function listenersOf(c: Clients, lbArn: string) {
  return (await c.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lbArn }))).Listeners ?? [];
}

/** Non-default rules of a listener as (priority, hosts, paths, target group ARNs). */
export async function rulesOf(c: Clients, listenerArn: string) {
  const rules = (await c.elbv2.send(new DescribeRulesCommand({ ListenerArn: listenerArn }))).Rules ?? [];
  return rules
    .filter((r) => !r.IsDefault)
    .map((r) => ({
      arn: r.RuleArn ?? '',
      priority: Number(r.Priority),
      hosts: r.Conditions?.find((x) => x.Field === 'host-header')?.HostHeaderConfig?.Values ?? r.Conditions?.find((x) => x.Field === 'host-header')?.Values ?? [],
      paths: r.Conditions?.find((x) => x.Field === 'path-pattern')?.PathPatternConfig?.Values ?? r.Conditions?.find((x) => x.Field === 'path-pattern')?.Values ?? [],
      targetGroupArns: (r.Actions ?? []).flatMap((a) => (a.TargetGroupArn ? [a.TargetGroupArn] : (a.ForwardConfig?.TargetGroups ?? []).flatMap((t) => (t.TargetGroupArn ? [t.TargetGroupArn] : [])))),
    }))
    .sort((a, b) => a.priority - b.priority);
}

export async function targetsOf(c: Clients, tgArn: string) {
  return ((await c.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tgArn }))).TargetHealthDescriptions ?? []).map((d) => ({ id: d.Target?.Id ?? '', port: d.Target?.Port }));
}

export async function sgRules(c: Clients, groupId: string) {
  return describeSecurityGroupRules(c.ec2, groupId);
}

/**
 * Rules of a group whose source is another group, with their descriptions, from DescribeSecurityGroups
 * (moto's DescribeSecurityGroupRules leaves those descriptions out).
 */
export async function sourceGroupRules(c: Clients, groupId: string) {
  const g = (await c.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }))).SecurityGroups?.[0];
  return (g?.IpPermissions ?? []).flatMap((p) => (p.UserIdGroupPairs ?? []).map((u) => ({ port: p.FromPort, protocol: p.IpProtocol, sourceGroupId: u.GroupId ?? '', description: u.Description })));
}

/**
 * Ingress and ApplicationLoadBalancer reads and writes of one namespace, as the integration tests use them.
 * `putIngress` creates the Ingress or replaces its annotations and spec, keeping our finalizer and status.
 */
export function ingressObjects(clients: () => Clients, ns: string) {
  const kube = () => clients().kube;
  const getIng = (name: string) => kube().get<V1Ingress>(resources.Ingress, name, ns);
  const getAlb = (name: string) => kube().get<ApplicationLoadBalancer>(ALB_RESOURCE, name, ns);
  async function putIngress(ing: V1Ingress): Promise<void> {
    await waitFor(`put Ingress ${ing.metadata?.name}`, async () => {
      const cur = await getIng(ing.metadata?.name ?? '');
      if (!cur) await kube().create(resources.Ingress, ing);
      else await kube().replace(resources.Ingress, { ...ing, metadata: { ...ing.metadata, resourceVersion: cur.metadata?.resourceVersion, finalizers: cur.metadata?.finalizers } } as V1Ingress);
      return true;
    }, 10_000);
  }
  async function deleteIngress(name: string): Promise<void> {
    if (!(await getIng(name))) return;
    await kube().delete(resources.Ingress, { name, namespace: ns });
    await waitFor(`Ingress ${name} gone`, async () => !(await getIng(name)), 90_000);
  }
  async function readyAlb(name: string): Promise<ApplicationLoadBalancer> {
    return waitFor(`ApplicationLoadBalancer ${name} Ready`, async () => {
      const cr = await getAlb(name);
      return cr?.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') && cr.status.observedGeneration === cr.metadata.generation ? cr : undefined;
    }, 90_000);
  }
  return { getIng, getAlb, putIngress, deleteIngress, readyAlb };
}
