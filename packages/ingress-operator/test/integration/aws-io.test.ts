/**
 * The ingress-operator's AWS I/O against the testbed's moto (seeded with the article's account), through
 * core's real guarded clients: desired state → plan → applyPlan → readActual → an empty plan; tags on
 * every resource; the untagged baseline group untouched; an apply cut off after CreateLoadBalancer and run
 * again from a fresh read makes exactly one ALB; deletion leaves nothing of the owner.
 */
import { randomUUID } from 'node:crypto';
import { DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplicationLoadBalancer } from '@kube-iaas/crds';
import { testbedEnv } from '@kube-iaas/testbed/testing';
import {
  createAwsClients,
  describeInstances,
  describeSecurityGroupRules,
  describeSecurityGroups,
  describeSubnets,
  type AwsClients,
  type SecurityGroup,
} from '@kube-iaas/core/aws';
import { isDescribedBy, matchesOwner, ownedByOwnerFilters, type OwnerRef } from '@kube-iaas/core/tags';
import { describeListeners, describeLoadBalancers, describeRules, describeTargetGroups } from '@kube-iaas/elbv2';
import { applyPlan, AwsEnvironment, readActual, type ApplyResult } from '../../src/aws/index.ts';
import { desiredState, ownerOf, planChanges, planDeletion, type Action, type DesiredState } from '../../src/plan/index.ts';

const savedEnv = { ...process.env };
let aws: AwsClients;
let env: AwsEnvironment;
let cluster: string;
let instanceIds: string[];
let baseline: SecurityGroup;
let baselineBefore: string;
const created: OwnerRef[] = [];

/** The article's Ingress as its ApplicationLoadBalancer: listener 18080, /v1 and /v2 on test.int32bit.me. */
function articleAlb(name: string): ApplicationLoadBalancer {
  const uid = randomUUID();
  return {
    apiVersion: 'elb.kube-iaas.dev/v1alpha1',
    kind: 'ApplicationLoadBalancer',
    metadata: { name, namespace: 'default', uid, generation: 1 },
    spec: {
      scheme: 'internet-facing',
      ingresses: [{ name }],
      listeners: [{ port: 18080, protocol: 'HTTP' }],
      rules: [
        { listenerPort: 18080, priority: 10, ingressName: name, hosts: ['test.int32bit.me'], paths: ['/v1', '/v1/*'], action: { type: 'forward', forward: { targetGroups: [{ name: 'kubernetes-bootcamp-v1-8080' }] } } },
        { listenerPort: 18080, priority: 20, ingressName: name, hosts: ['test.int32bit.me'], paths: ['/v2', '/v2/*'], action: { type: 'forward', forward: { targetGroups: [{ name: 'kubernetes-bootcamp-v2-8080' }] } } },
      ],
      targetGroups: [
        { name: 'kubernetes-bootcamp-v1-8080', serviceRef: { name: 'kubernetes-bootcamp-v1', port: 8080 }, targetPort: 31001, protocol: 'HTTP' },
        { name: 'kubernetes-bootcamp-v2-8080', serviceRef: { name: 'kubernetes-bootcamp-v2', port: 8080 }, targetPort: 31002, protocol: 'HTTP' },
      ],
    },
  } as ApplicationLoadBalancer;
}

/** Stage 2 up to the plan, as the controller resolves it. */
async function desiredFor(alb: ApplicationLoadBalancer): Promise<DesiredState> {
  const vpcId = await env.vpcId(instanceIds);
  const [subnets, vpcCidr, nodeSecurityGroupIds] = await Promise.all([env.subnets(vpcId, alb.spec.scheme ?? 'internal', alb.spec.subnets), env.vpcCidr(vpcId), env.nodeSecurityGroups(vpcId, instanceIds)]);
  const d = desiredState({ cluster, alb, instanceIds, vpcId, vpcCidr, subnetIds: subnets.map((s) => s.id), nodeSecurityGroupIds });
  if (!d.ok) throw new Error(JSON.stringify(d.errors));
  return d.desired;
}

async function reconcile(alb: ApplicationLoadBalancer, desired: DesiredState, cut?: (a: readonly Action[]) => readonly Action[]): Promise<{ actions: readonly Action[]; result: ApplyResult }> {
  const owner = ownerOf(alb);
  const actual = await readActual({ clients: aws, owner, desired, nodeSecurityGroupIds: desired.nodeRules.map((r) => r.groupId) });
  const plan = planChanges(desired, actual);
  const actions = cut ? cut(plan.actions) : plan.actions;
  const result = await applyPlan({ clients: aws, owner, actual, keepArn: plan.keep?.arn, dependencyRetry: { baseMs: 250, maxMs: 2000, attempts: 12 } }, actions);
  return { actions, result };
}

/** Everything in moto carrying this owner's tags (or, for node-group rules, its description). */
async function leftOf(owner: OwnerRef) {
  const ours = matchesOwner(cluster, owner);
  const [lbs, tgs, sgs, nodeGroups] = await Promise.all([
    describeLoadBalancers(aws.elbv2, { match: ours }),
    describeTargetGroups(aws.elbv2, { match: ours }),
    describeSecurityGroups(aws.ec2, { filters: ownedByOwnerFilters(cluster, owner) }),
    describeSecurityGroups(aws.ec2, {}),
  ]);
  // From DescribeSecurityGroups: moto's DescribeSecurityGroupRules leaves out descriptions of source-group rules.
  const rules: Array<{ groupId: string; port?: number; source?: string }> = [];
  const raw = await aws.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: nodeGroups.map((g) => g.id) }));
  for (const g of raw.SecurityGroups ?? [])
    for (const p of g.IpPermissions ?? [])
      for (const u of p.UserIdGroupPairs ?? []) if (isDescribedBy(u.Description, cluster, owner)) rules.push({ groupId: g.GroupId ?? '', port: p.FromPort, source: u.GroupId });
  return { lbs, tgs, sgs, rules };
}

const shape = async (g: SecurityGroup) =>
  JSON.stringify(
    (await describeSecurityGroupRules(aws.ec2, g.id))
      .map((r) => ({ egress: r.egress, protocol: r.protocol, from: r.fromPort, to: r.toPort, cidr: r.cidrIpv4, group: r.referencedGroupId, description: r.description }))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
  );

beforeAll(async () => {
  const tb = testbedEnv();
  Object.assign(process.env, tb.env);
  cluster = tb.clusterName;
  aws = await createAwsClients({ cluster });
  env = new AwsEnvironment(aws);
  instanceIds = (await describeInstances(aws.ec2, { filters: [{ Name: 'instance-state-name', Values: ['running'] }, { Name: `tag-key`, Values: [`kubernetes.io/cluster/${cluster}`] }] }))
    .map((i) => i.id)
    .sort();
  expect(instanceIds.length, 'the testbed seeds three nodes').toBeGreaterThanOrEqual(3);
  instanceIds = instanceIds.slice(0, 3);
  baseline = (await describeSecurityGroups(aws.ec2, {})).find((g) => g.name === 'baseline' || g.tags.Name === 'baseline')!;
  expect(baseline, 'the testbed seeds an untagged security group named baseline').toBeDefined();
  baselineBefore = await shape(baseline);
});

afterAll(async () => {
  // Whatever a failed test left behind goes, so reruns start clean.
  for (const owner of created) {
    const actual = await readActual({ clients: aws, owner, nodeSecurityGroupIds: await env.allClusterSecurityGroups() }).catch(() => undefined);
    if (actual) await applyPlan({ clients: aws, owner, actual, dependencyRetry: { baseMs: 250, maxMs: 2000, attempts: 12 } }, planDeletion(actual)).catch(() => undefined);
  }
  aws?.destroy();
  process.env = savedEnv;
});

describe('ingress-operator AWS I/O on moto', () => {
  const alb = articleAlb(`aws-io-${process.pid}`);
  const owner = ownerOf(alb);
  created.push(owner);
  let desired: DesiredState;

  it('creates the article ALB: listener 18080, two host+path rules, two target groups with the three instances', async () => {
    desired = await desiredFor(alb);
    const before = aws.stats();
    const started = performance.now();
    const { actions, result } = await reconcile(alb, desired);
    const calls = aws.stats().since(before);
    console.log(`create: ${Math.round(performance.now() - started)} ms, ${calls.mutate} mutating ${JSON.stringify(calls.byOperation({ class: 'mutate' }))}, ${calls.describe} describe`);
    expect(actions.map((a) => a.op)).toEqual([
      'createSecurityGroup',
      'authorizeGroupIngress',
      'authorizeNodeRules',
      'createLoadBalancer',
      'createTargetGroup',
      'createTargetGroup',
      'createListener',
      'createRule',
      'createRule',
      'registerTargets',
      'registerTargets',
    ]);
    expect(result.calls).toBe(actions.length);
    expect(result.ruleError).toBeUndefined();
    expect(result.loadBalancer?.dnsName).toBeTruthy();
    expect([...result.listenerArns.keys()]).toEqual([18080]);
    expect(result.rules.map((r) => r.priority).sort()).toEqual([10, 20]);
    expect([...result.targetGroupArns.keys()].sort()).toEqual(desired.targetGroups.map((t) => t.name).sort());

    const actual = await readActual({ clients: aws, owner, desired, nodeSecurityGroupIds: desired.nodeRules.map((r) => r.groupId) });
    expect(actual.loadBalancers).toHaveLength(1);
    const lb = actual.loadBalancers[0]!;
    expect(lb).toMatchObject({ type: 'application', scheme: 'internet-facing', name: desired.loadBalancer.name, arn: result.loadBalancer?.arn });
    expect(lb.subnetIds).toHaveLength(2);
    expect(lb.securityGroupIds).toEqual([result.securityGroupId]);
    expect(actual.listeners.map((l) => [l.port, l.protocol, l.defaultAction])).toEqual([[18080, 'HTTP', { type: 'fixed-response', statusCode: '404', contentType: 'text/plain' }]]);
    expect(actual.rules.map((r) => ({ priority: r.priority, hosts: r.hosts, paths: r.paths, action: r.action }))).toEqual([
      { priority: 10, hosts: ['test.int32bit.me'], paths: ['/v1', '/v1/*'], action: { type: 'forward', targetGroups: [{ name: desired.targetGroups[0]!.name, weight: 1 }] } },
      { priority: 20, hosts: ['test.int32bit.me'], paths: ['/v2', '/v2/*'], action: { type: 'forward', targetGroups: [{ name: desired.targetGroups[1]!.name, weight: 1 }] } },
    ]);
    for (const tg of actual.targetGroups) {
      expect(tg.targets).toEqual(instanceIds);
      expect(tg.healthCheck).toMatchObject({ protocol: 'HTTP', path: '/', successCodes: '200', timeoutSeconds: 5 });
    }
    expect(actual.targetGroups.map((t) => t.port).sort()).toEqual([31001, 31002]);
    expect(actual.securityGroups).toHaveLength(1);
    expect(actual.securityGroups[0]!.ingress.map((r) => [r.fromPort, r.cidr])).toEqual([[18080, '0.0.0.0/0']]);
    // The ALB's group may reach both NodePorts on the cluster-tagged node group, and nothing else was added.
    expect(actual.nodeRules.map((r) => [r.port, r.sourceGroupId]).sort()).toEqual([
      [31001, result.securityGroupId],
      [31002, result.securityGroupId],
    ]);
    expect(actual.nodeRules.every((r) => r.groupId !== baseline.id)).toBe(true);
  });

  it('reads back to an empty plan (idempotent), with no mutating call on a second pass', async () => {
    const before = aws.stats();
    const { actions, result } = await reconcile(alb, desired);
    expect(actions.map((a) => a.op)).toEqual([]);
    expect(result.calls).toBe(0);
    const calls = aws.stats().since(before);
    expect(calls.mutate).toBe(0);
    // For the README: what one steady-state read costs.
    console.log(`steady-state read: ${calls.describe} describe calls ${JSON.stringify(calls.byOperation({ class: 'describe' }))}`);
  });

  it('tags every resource with the cluster and owner tags; the baseline group is untouched', async () => {
    const left = await leftOf(owner);
    expect(left.lbs).toHaveLength(1);
    expect(left.tgs).toHaveLength(2);
    expect(left.sgs).toHaveLength(1);
    for (const r of [...left.lbs, ...left.tgs, ...left.sgs]) {
      expect(r.tags).toMatchObject({
        [`kubernetes.io/cluster/${cluster}`]: 'owned',
        KubernetesCluster: cluster,
        'kube-iaas.dev/cluster': cluster,
        'kube-iaas.dev/owner-kind': 'ApplicationLoadBalancer',
        'kube-iaas.dev/owner': `default/${alb.metadata.name}`,
        'kube-iaas.dev/owner-uid': alb.metadata.uid,
      });
    }
    expect(left.rules).toHaveLength(2);
    expect(await shape(baseline)).toBe(baselineBefore);
    // Listeners and rules carry no tags of their own: they are judged by their ALB.
    const ls = await describeListeners(aws.elbv2, left.lbs[0]!.arn);
    expect((await describeRules(aws.elbv2, ls[0]!.arn)).map((r) => r.priority)).toEqual([10, 20]);
  });

  it('the guard refuses another owner changing or deleting this ALB and its target groups; nothing changes', async () => {
    const actual = await readActual({ clients: aws, owner, desired, nodeSecurityGroupIds: desired.nodeRules.map((r) => r.groupId) });
    const intruder: OwnerRef = { ...owner, uid: randomUUID() };
    const lb = actual.loadBalancers[0]!;
    const tg = actual.targetGroups[0]!;
    for (const action of [
      { op: 'deleteTargetGroup', arn: tg.arn, name: tg.name },
      { op: 'deregisterTargets', arn: tg.arn, name: tg.name, ids: [instanceIds[0]!] },
      { op: 'deleteLoadBalancer', arn: lb.arn, name: lb.name, why: 'deleted' },
      { op: 'deleteSecurityGroup', groupId: actual.securityGroups[0]!.id, name: actual.securityGroups[0]!.name },
    ] satisfies Action[]) {
      await expect(applyPlan({ clients: aws, owner: intruder, actual }, [action])).rejects.toMatchObject({ name: 'OwnershipError', reason: 'not-ours' });
    }
    expect(planChanges(desired, await readActual({ clients: aws, owner, desired, nodeSecurityGroupIds: desired.nodeRules.map((r) => r.groupId) })).actions).toEqual([]);
  });

  it('finds everything again with a lost status (no status, no inventory): no second ALB', async () => {
    const actual = await readActual({ clients: aws, owner, nodeSecurityGroupIds: await env.allClusterSecurityGroups() });
    expect(actual.loadBalancers).toHaveLength(1);
    expect(actual.targetGroups).toHaveLength(2);
    expect(actual.rules).toHaveLength(2);
    expect(actual.nodeRules).toHaveLength(2);
  });

  it('an apply cut off after CreateLoadBalancer, then a fresh read + plan + apply, yields exactly one ALB', async () => {
    const crashed = articleAlb(`aws-io-crash-${process.pid}`);
    const crashOwner = ownerOf(crashed);
    created.push(crashOwner);
    const d = await desiredFor(crashed);
    const first = await reconcile(crashed, d, (actions) => actions.slice(0, actions.findIndex((a) => a.op === 'createLoadBalancer') + 1));
    expect(first.actions.at(-1)?.op).toBe('createLoadBalancer');
    expect(first.result.loadBalancer?.arn).toBeTruthy();

    // The restarted process knows nothing: no status, no inventory, just the desired state.
    const second = await reconcile(crashed, d);
    expect(second.actions.map((a) => a.op)).not.toContain('createLoadBalancer');
    expect(second.actions.map((a) => a.op)).not.toContain('createSecurityGroup');
    const third = await reconcile(crashed, d);
    expect(third.actions).toEqual([]);

    const left = await leftOf(crashOwner);
    expect(left.lbs.map((lb) => lb.arn)).toEqual([first.result.loadBalancer?.arn]);
    expect(left.tgs).toHaveLength(2);
    expect(left.sgs).toHaveLength(1);

    const actual = await readActual({ clients: aws, owner: crashOwner, desired: d, nodeSecurityGroupIds: d.nodeRules.map((r) => r.groupId) });
    await applyPlan({ clients: aws, owner: crashOwner, actual, dependencyRetry: { baseMs: 250, maxMs: 2000, attempts: 12 } }, planDeletion(actual));
    expect(await leftOf(crashOwner)).toEqual({ lbs: [], tgs: [], sgs: [], rules: [] });
  });

  it('a create that meets its own earlier resource (crash after CreateTargetGroup, before status) adopts it', async () => {
    const actual = await readActual({ clients: aws, owner, desired, nodeSecurityGroupIds: desired.nodeRules.map((r) => r.groupId) });
    const tg = desired.targetGroups[0]!;
    // As if the read had missed it: the create finds the name taken by a group with our tags.
    const result = await applyPlan({ clients: aws, owner, actual: { ...actual, targetGroups: [] } }, [{ op: 'createTargetGroup', tg }]);
    expect(result.targetGroupArns.get(tg.name)).toBe(actual.targetGroups.find((t) => t.name === tg.name)?.arn);
    expect((await leftOf(owner)).tgs).toHaveLength(2);
  });

  it('a node leaving is deregistered and joining again is registered, nothing else changes', async () => {
    const fewer = { ...desired, targets: instanceIds.slice(0, 2) };
    const leave = await reconcile(alb, fewer);
    expect(leave.actions.map((a) => [a.op, 'ids' in a ? a.ids : undefined])).toEqual([
      ['deregisterTargets', [instanceIds[2]]],
      ['deregisterTargets', [instanceIds[2]]],
    ]);
    const actual = await readActual({ clients: aws, owner, desired: fewer, nodeSecurityGroupIds: fewer.nodeRules.map((r) => r.groupId) });
    for (const tg of actual.targetGroups) expect(tg.targets).toEqual(instanceIds.slice(0, 2));
    const join = await reconcile(alb, desired);
    expect(join.actions.map((a) => a.op)).toEqual(['registerTargets', 'registerTargets']);
    expect((await reconcile(alb, desired)).actions).toEqual([]);
  });

  it('an internal ALB goes in the internal-elb subnets, open to the VPC CIDR only', async () => {
    const internal = articleAlb(`aws-io-internal-${process.pid}`);
    delete internal.spec.scheme;
    const internalOwner = ownerOf(internal);
    created.push(internalOwner);
    const d = await desiredFor(internal);
    await reconcile(internal, d);
    const actual = await readActual({ clients: aws, owner: internalOwner, desired: d, nodeSecurityGroupIds: d.nodeRules.map((r) => r.groupId) });
    expect(actual.loadBalancers.map((lb) => lb.scheme)).toEqual(['internal']);
    const vpcCidr = await env.vpcCidr(await env.vpcId(instanceIds));
    expect(actual.securityGroups[0]?.ingress.map((r) => [r.fromPort, r.cidr])).toEqual([[18080, vpcCidr]]);
    const subnets = await describeSubnets(aws.ec2, { ids: actual.loadBalancers[0]!.subnetIds });
    expect(subnets.every((sn) => sn.tags['kubernetes.io/role/internal-elb'] !== undefined)).toBe(true);
    expect(planChanges(d, actual).actions).toEqual([]);
    await applyPlan({ clients: aws, owner: internalOwner, actual, dependencyRetry: { baseMs: 250, maxMs: 2000, attempts: 12 } }, planDeletion(actual));
    expect(await leftOf(internalOwner)).toEqual({ lbs: [], tgs: [], sgs: [], rules: [] });
  });

  it('redirect and fixed-response actions, ALB and target-group attributes read back to an empty plan', async () => {
    const custom = articleAlb(`aws-io-actions-${process.pid}`);
    const customOwner = ownerOf(custom);
    created.push(customOwner);
    custom.spec.attributes = { 'idle_timeout.timeout_seconds': '120' };
    custom.spec.listeners = [{ port: 18080, protocol: 'HTTP', defaultAction: { type: 'redirect', redirect: { statusCode: 'HTTP_302', port: '18081', path: '/home' } } }];
    custom.spec.rules = [
      ...custom.spec.rules!,
      { listenerPort: 18080, priority: 30, hosts: ['maintenance.int32bit.me'], action: { type: 'fixed-response', fixedResponse: { statusCode: 503, contentType: 'text/plain', messageBody: 'back soon' } } },
    ];
    custom.spec.targetGroups![0]!.attributes = { 'deregistration_delay.timeout_seconds': '30' };
    const d = await desiredFor(custom);
    const first = await reconcile(custom, d);
    expect(first.actions.map((a) => a.op)).toContain('modifyLoadBalancerAttributes');
    expect(first.actions.map((a) => a.op)).toContain('modifyTargetGroupAttributes');
    const actual = await readActual({ clients: aws, owner: customOwner, desired: d, nodeSecurityGroupIds: d.nodeRules.map((r) => r.groupId) });
    expect(actual.listeners[0]?.defaultAction).toEqual({ type: 'redirect', statusCode: 'HTTP_302', port: '18081', path: '/home' });
    expect(actual.rules.find((r) => r.priority === 30)?.action).toEqual({ type: 'fixed-response', statusCode: '503', contentType: 'text/plain', messageBody: 'back soon' });
    expect(actual.loadBalancers[0]?.attributes?.['idle_timeout.timeout_seconds']).toBe('120');
    expect(planChanges(d, actual).actions).toEqual([]);
    await applyPlan({ clients: aws, owner: customOwner, actual, dependencyRetry: { baseMs: 250, maxMs: 2000, attempts: 12 } }, planDeletion(actual));
    expect(await leftOf(customOwner)).toEqual({ lbs: [], tgs: [], sgs: [], rules: [] });
  });

  it('planDeletion → applyPlan leaves nothing tagged for the owner in moto; the baseline group is untouched', async () => {
    const actual = await readActual({ clients: aws, owner, desired, nodeSecurityGroupIds: await env.allClusterSecurityGroups() });
    const actions = planDeletion(actual);
    expect(actions.map((a) => a.op)).toEqual(['deleteLoadBalancer', 'deleteTargetGroup', 'deleteTargetGroup', 'revokeNodeRules', 'deleteSecurityGroup']);
    const result = await applyPlan({ clients: aws, owner, actual, dependencyRetry: { baseMs: 250, maxMs: 2000, attempts: 12 } }, actions);
    expect(result.calls).toBe(actions.length);
    expect(await leftOf(owner)).toEqual({ lbs: [], tgs: [], sgs: [], rules: [] });
    expect(await shape(baseline)).toBe(baselineBefore);
    // A second deletion finds nothing to do.
    const after = await readActual({ clients: aws, owner, nodeSecurityGroupIds: await env.allClusterSecurityGroups() });
    expect(planDeletion(after)).toEqual([]);
  });
});
