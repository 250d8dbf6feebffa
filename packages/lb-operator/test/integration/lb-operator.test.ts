// The article's §5 on the testbed, end to end, with the operator running as its own process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Service } from '@kubernetes/client-node';
import { DescribeSecurityGroupRulesCommand } from '@aws-sdk/client-ec2';
import { CreateTargetGroupCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SetDesiredCapacityCommand, DescribeAutoScalingGroupsCommand, TerminateInstanceInAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import type { NetworkLoadBalancer } from '@kube-iaas/crds';
import { OWNER_KIND_TAG, OWNER_TAG, ownedTags, parseOwnerDescription, toElbTags, type Tags } from '@kube-iaas/core/tags';
import { describeSecurityGroups } from '@kube-iaas/core/aws';
import { resources, type KubeObject } from '@kube-iaas/core/runtime';
import { readState } from '@kube-iaas/testbed';
import { testbedEnv } from '@kube-iaas/testbed/testing';
import { ANNOTATIONS, NLB_RESOURCE } from '../../src/constants.ts';
import { OperatorProcess, clients, listenersOf, mutatingDelta, ourElbResources, targetsOf, waitFor, type Clients } from './harness.ts';

const CLUSTER = testbedEnv().clusterName;
const account = readState()?.account;
if (!account) throw new Error('testbed account not seeded');
const NS = 'default';
const NAME = 'kubernetes-bootcamp-v1';
const ownerIs = (ns: string, name: string) => (t: Tags) => t[OWNER_KIND_TAG] === 'NetworkLoadBalancer' && t[OWNER_TAG] === `${ns}/${name}`;

type Ev = KubeObject & { reason?: string; type?: string; message?: string; involvedObject?: { kind?: string; name?: string } };

let c: Clients;
let op: OperatorProcess;

function service(name: string, annotations: Record<string, string> = { [ANNOTATIONS.type]: 'nlb' }, ports = [{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' }]): V1Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS, annotations }, spec: { type: 'LoadBalancer', selector: { app: name }, ports } };
}

const getSvc = (name: string) => c.kube.get<V1Service>(resources.Service, name, NS);
const getNlb = (name: string) => c.kube.get<NetworkLoadBalancer>(NLB_RESOURCE, name, NS);
const hostnameOf = async (name: string) => (await getSvc(name))?.status?.loadBalancer?.ingress?.[0]?.hostname;

async function sgRules(groupId: string) {
  return (await c.ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] }))).SecurityGroupRules ?? [];
}

async function deleteAndWait(name: string): Promise<void> {
  await c.kube.delete(resources.Service, { name, namespace: NS });
  await waitFor(`Service ${name} gone`, async () => !(await getSvc(name)), 60_000);
}

async function readyNlb(name: string): Promise<NetworkLoadBalancer> {
  return waitFor(`NetworkLoadBalancer ${name} Ready`, async () => {
    const cr = await getNlb(name);
    return cr?.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') && cr.status.observedGeneration === cr.metadata.generation ? cr : undefined;
  });
}

let baselineBefore: string;

beforeAll(async () => {
  c = clients();
  baselineBefore = JSON.stringify(await sgRules(account.baselineSecurityGroupId));
  op = await OperatorProcess.start();
  for (const n of [NAME, 'crash-test']) if (await getSvc(n)) await deleteAndWait(n);
  if (await getNlb('by-hand')) {
    await c.kube.delete(NLB_RESOURCE, { name: 'by-hand', namespace: NS });
    await waitFor('old by-hand gone', async () => !(await getNlb('by-hand')));
  }
});

afterAll(async () => {
  await op?.stop();
});

describe('lb-operator on the testbed', () => {
  it('article flow: Service kubernetes-bootcamp-v1 on 8080 becomes an NLB with the three nodes on the NodePort and its DNS name in the Service', async () => {
    await c.kube.create(resources.Service, service(NAME));
    const hostname = await waitFor('hostname in Service status', () => hostnameOf(NAME), 60_000);
    const svc = await getSvc(NAME);
    const nodePort = svc?.spec?.ports?.[0]?.nodePort;
    expect(nodePort).toBeGreaterThan(0);
    expect(svc?.metadata?.finalizers).toContain('elb.kube-iaas.dev/finalizer');

    const cr = await readyNlb(NAME);
    expect(cr.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Service', name: NAME, controller: true });
    expect(cr.metadata.finalizers).toContain('elb.kube-iaas.dev/finalizer');
    expect(cr.status?.dnsName).toBe(hostname);

    const { lbs, tgs } = await ourElbResources(c, CLUSTER, ownerIs(NS, NAME));
    expect(lbs).toHaveLength(1);
    const lb = lbs[0]!;
    expect(lb.type).toBe('network');
    expect(lb.scheme).toBe('internet-facing');
    expect(lb.dnsName).toBe(hostname);
    expect(new Set(lb.zones.map((z) => z.zoneName)).size).toBe(2);
    const publicSubnets = account.subnets.filter((s) => s.role === 'public').map((s) => s.id).sort();
    expect(lb.zones.map((z) => z.subnetId).sort()).toEqual(publicSubnets);

    const listeners = await listenersOf(c, lb.arn);
    expect(listeners.map((l) => [l.Port, l.Protocol])).toEqual([[8080, 'TCP']]);
    expect(tgs).toHaveLength(1);
    const tg = tgs[0]!;
    expect(listeners[0]?.DefaultActions?.[0]?.TargetGroupArn).toBe(tg.arn);
    expect(tg).toMatchObject({ protocol: 'TCP', port: nodePort, targetType: 'instance' });
    const targets = await targetsOf(c, tg.arn);
    expect(targets.map((t) => t.id).sort()).toEqual([...account.instanceIds].sort());
    expect(targets.every((t) => t.port === nodePort)).toBe(true);

    for (const tags of [lb.tags, tg.tags]) {
      expect(tags[`kubernetes.io/cluster/${CLUSTER}`]).toBe('owned');
      expect(tags['kube-iaas.dev/cluster']).toBe(CLUSTER);
      expect(tags['kube-iaas.dev/owner-uid']).toBe(cr.metadata.uid);
      expect(tags['kubernetes.io/service-name']).toBe(`${NS}/${NAME}`);
    }
    // The NLB carries its own frontend group (clients to the listener port) and the cluster's shared
    // backend group, which the cluster-tagged node group trusts on the NodePort range with one rule;
    // nothing on the node group names this load balancer. The baseline group is untouched.
    expect(lb.securityGroupIds).toHaveLength(2);
    const groups = await describeSecurityGroups(c.ec2, { ids: lb.securityGroupIds });
    const frontend = groups.find((g) => g.tags[OWNER_KIND_TAG] === 'NetworkLoadBalancer');
    const backend = groups.find((g) => g.tags[OWNER_KIND_TAG] === 'NetworkLoadBalancerBackend');
    expect(frontend?.tags['kube-iaas.dev/owner-uid']).toBe(cr.metadata.uid);
    expect(backend?.tags[`kubernetes.io/cluster/${CLUSTER}`]).toBe('owned');
    const front = (await sgRules(frontend!.id)).filter((r) => !r.IsEgress);
    expect(front.map((r) => [r.IpProtocol, r.FromPort, r.ToPort, r.CidrIpv4])).toEqual([['tcp', 8080, 8080, '0.0.0.0/0']]);
    const nodeRules = await sgRules(account.clusterSecurityGroupId);
    expect(nodeRules.filter((r) => parseOwnerDescription(r.Description)?.name === NAME)).toEqual([]);
    expect(nodeRules.filter((r) => r.ReferencedGroupInfo?.GroupId === backend!.id).map((r) => [r.IpProtocol, r.FromPort, r.ToPort])).toEqual([['tcp', 30000, 32767]]);
    expect(JSON.stringify(await sgRules(account.baselineSecurityGroupId))).toBe(baselineBefore);

    const events = await c.kube.list<Ev>(resources.Event, { namespace: NS });
    const reasons = events.items.filter((e) => e.involvedObject?.name === NAME).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['CreatedLoadBalancer', 'CreatedTargetGroup', 'RegisteredTargets', 'CreatedListener']));
  });

  it('a resync of an unchanged Service makes no mutating AWS call', async () => {
    const before = await op.awsCalls();
    // Touch both objects without changing what they ask for: each is reconciled again.
    await c.kube.patch(resources.Service, { name: NAME, namespace: NS }, { metadata: { labels: { touched: String(Date.now()) } } });
    await c.kube.patch(NLB_RESOURCE, { name: NAME, namespace: NS }, { metadata: { labels: { touched: String(Date.now()) } } });
    await waitFor('the touch to be reconciled', async () => {
      const now = await op.awsCalls();
      return (now['elbv2:DescribeLoadBalancers:success'] ?? 0) > (before['elbv2:DescribeLoadBalancers:success'] ?? 0);
    });
    await new Promise((r) => setTimeout(r, 1500));
    expect(mutatingDelta(before, await op.awsCalls())).toEqual({});
  });

  it('a node joining through the ASG is registered, and deregistered when it terminates', async () => {
    const { tgs } = await ourElbResources(c, CLUSTER, ownerIs(NS, NAME));
    const tgArn = tgs[0]!.arn;
    await c.asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: account.asgName, DesiredCapacity: 1 }));
    const newId = await waitFor('ASG instance', async () => {
      const g = (await c.asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [account.asgName] }))).AutoScalingGroups?.[0];
      return g?.Instances?.[0]?.InstanceId;
    });
    await waitFor('new node registered', async () => (await targetsOf(c, tgArn)).some((t) => t.id === newId), 60_000);
    expect((await targetsOf(c, tgArn)).length).toBe(4);
    await c.asg.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: newId, ShouldDecrementDesiredCapacity: true }));
    await waitFor('terminated node deregistered', async () => !(await targetsOf(c, tgArn)).some((t) => t.id === newId), 60_000);
    expect((await targetsOf(c, tgArn)).map((t) => t.id).sort()).toEqual([...account.instanceIds].sort());
  });

  it('a port change updates the listener and target group without recreating the NLB', async () => {
    const before = (await ourElbResources(c, CLUSTER, ownerIs(NS, NAME))).lbs[0]!;
    await c.kube.patch(resources.Service, { name: NAME, namespace: NS }, { spec: { ports: [{ name: 'http', port: 8081, targetPort: 8080, protocol: 'TCP' }] } });
    const nodePort = (await getSvc(NAME))?.spec?.ports?.[0]?.nodePort;
    await waitFor('listener on 8081 only', async () => {
      const ls = await listenersOf(c, before.arn);
      return ls.length === 1 && ls[0]?.Port === 8081;
    });
    const after = await ourElbResources(c, CLUSTER, ownerIs(NS, NAME));
    await waitFor('one target group', async () => (await ourElbResources(c, CLUSTER, ownerIs(NS, NAME))).tgs.length === 1);
    expect(after.lbs.map((l) => l.arn)).toEqual([before.arn]);
    const tg = (await ourElbResources(c, CLUSTER, ownerIs(NS, NAME))).tgs[0]!;
    expect(tg.port).toBe(nodePort);
    expect((await targetsOf(c, tg.arn)).length).toBe(3);
    expect((await listenersOf(c, before.arn))[0]?.DefaultActions?.[0]?.TargetGroupArn).toBe(tg.arn);
  });

  it('bad input gives a Warning naming the annotation, Accepted=False, and leaves the working NLB in place', async () => {
    const before = (await ourElbResources(c, CLUSTER, ownerIs(NS, NAME))).lbs[0]!;
    const callsBefore = await op.awsCalls();
    await c.kube.patch(resources.Service, { name: NAME, namespace: NS }, { metadata: { annotations: { [ANNOTATIONS.scheme]: 'public', [ANNOTATIONS.attributes]: 'deletion_protection.enabled' } } });
    const warning = await waitFor('Warning event', async () => {
      const evs = await c.kube.list<Ev>(resources.Event, { namespace: NS });
      return evs.items.find((e) => e.type === 'Warning' && e.involvedObject?.kind === 'Service' && e.involvedObject.name === NAME && e.reason === 'InvalidLoadBalancerSpec' && e.message?.includes(ANNOTATIONS.attributes));
    });
    expect(warning.message).toContain(ANNOTATIONS.attributes);
    await waitFor('Accepted=False', async () => (await getNlb(NAME))?.status?.conditions?.some((x) => x.type === 'Accepted' && x.status === 'False'));
    expect((await ourElbResources(c, CLUSTER, ownerIs(NS, NAME))).lbs.map((l) => l.arn)).toEqual([before.arn]);
    expect((await getNlb(NAME))?.spec.scheme).toBe('internet-facing');
    expect(mutatingDelta(callsBefore, await op.awsCalls())).toEqual({});
    await c.kube.patch(resources.Service, { name: NAME, namespace: NS }, { metadata: { annotations: { [ANNOTATIONS.scheme]: null, [ANNOTATIONS.attributes]: null } } });
    await waitFor('Accepted=True again', async () => (await getNlb(NAME))?.status?.conditions?.some((x) => x.type === 'Accepted' && x.status === 'True'));
  });

  it('a scheme change replaces the NLB (new internal NLB, old one deleted, new DNS name)', async () => {
    const before = (await ourElbResources(c, CLUSTER, ownerIs(NS, NAME))).lbs[0]!;
    await c.kube.patch(resources.Service, { name: NAME, namespace: NS }, { metadata: { annotations: { [ANNOTATIONS.scheme]: 'internal' } } });
    const after = await waitFor('one internal NLB', async () => {
      const { lbs } = await ourElbResources(c, CLUSTER, ownerIs(NS, NAME));
      return lbs.length === 1 && lbs[0]?.scheme === 'internal' ? lbs[0] : undefined;
    });
    expect(after.arn).not.toBe(before.arn);
    const privateSubnets = account.subnets.filter((s) => s.role === 'private').map((s) => s.id).sort();
    expect(after.zones.map((z) => z.subnetId).sort()).toEqual(privateSubnets);
    await waitFor('Service hostname follows', async () => (await hostnameOf(NAME)) === after.dnsName);
    expect((await listenersOf(c, after.arn)).map((l) => l.Port)).toEqual([8081]);
    await waitFor('one target group', async () => (await ourElbResources(c, CLUSTER, ownerIs(NS, NAME))).tgs.length === 1);
    const events = await c.kube.list<Ev>(resources.Event, { namespace: NS });
    expect(events.items.some((e) => e.reason === 'ReplacingLoadBalancer' && e.involvedObject?.name === NAME)).toBe(true);
    // internal: clients from the VPC only, on the same frontend group, which the new NLB carries
    const frontend = (await describeSecurityGroups(c.ec2, { ids: after.securityGroupIds })).find((g) => g.tags[OWNER_KIND_TAG] === 'NetworkLoadBalancer');
    expect(frontend).toBeDefined();
    await waitFor('rules follow', async () => {
      const rs = (await sgRules(frontend!.id)).filter((r) => !r.IsEgress);
      return rs.length > 0 && rs.every((r) => r.CidrIpv4 === '192.168.192.0/22' && r.FromPort === 8081);
    });
  });

  it('an orphaned target group is collected by the sweep', async () => {
    const tags = ownedTags(CLUSTER, { kind: 'NetworkLoadBalancer', namespace: NS, name: 'ghost', uid: '00000000-dead-beef-0000-000000000000' });
    const out = await c.elbv2.send(new CreateTargetGroupCommand({ Name: 'k8s-default-ghost-orphan', Protocol: 'TCP', Port: 30999, VpcId: account.vpcId, TargetType: 'instance', Tags: toElbTags(tags) }));
    const arn = out.TargetGroups?.[0]?.TargetGroupArn;
    expect(arn).toBeDefined();
    await waitFor('orphan collected', async () => (await ourElbResources(c, CLUSTER, ownerIs(NS, 'ghost'))).tgs.length === 0, 30_000);
    const events = await c.kube.list<Ev>(resources.Event, { namespace: 'default' });
    expect(events.items.some((e) => e.reason === 'OrphansCollected' && e.message?.includes('ghost'))).toBe(true);
  });

  it('killing the operator in the middle of creating and starting it again leaves exactly one NLB', async () => {
    const name = 'crash-test';
    await c.kube.create(resources.Service, service(name));
    // Kill as soon as the NLB exists in AWS, before the rest (target group, listener, status) is done.
    await waitFor('NLB created', async () => (await ourElbResources(c, CLUSTER, ownerIs(NS, name))).lbs.length > 0, 60_000, 20);
    await op.stop('SIGKILL');
    const midway = await ourElbResources(c, CLUSTER, ownerIs(NS, name));
    console.log(`killed with ${midway.lbs.length} NLB, ${midway.tgs.length} target group(s), hostname ${(await hostnameOf(name)) ?? 'unset'}`);
    op = await OperatorProcess.start();
    await waitFor('hostname after restart', () => hostnameOf(name), 60_000);
    await readyNlb(name);
    const { lbs, tgs } = await ourElbResources(c, CLUSTER, ownerIs(NS, name));
    expect(lbs).toHaveLength(1);
    expect(lbs[0]?.arn).toBe(midway.lbs[0]?.arn);
    expect(tgs).toHaveLength(1);
    expect((await listenersOf(c, lbs[0]!.arn)).length).toBe(1);
    await deleteAndWait(name);
  });

  it('a NetworkLoadBalancer applied by hand (explicit instances) is reconciled the same way; a missing subnet is a condition and no AWS call', async () => {
    const name = 'by-hand';
    const spec = { scheme: 'internal', subnets: ['subnet-0000000000doesnotexist'], listeners: [{ port: 9000, protocol: 'TCP', targetPort: 30900 }], targets: { instanceIds: [account.instanceIds[0]!] } };
    const callsBefore = await op.awsCalls();
    await c.kube.create(NLB_RESOURCE, { apiVersion: 'elb.kube-iaas.dev/v1alpha1', kind: 'NetworkLoadBalancer', metadata: { name, namespace: NS }, spec });
    const bad = await waitFor('Synced=False naming spec.subnets', async () => (await getNlb(name))?.status?.conditions?.find((x) => x.type === 'Synced' && x.status === 'False'));
    expect(bad.reason).toBe('InvalidSpec');
    expect(bad.message).toContain('spec.subnets');
    expect((await ourElbResources(c, CLUSTER, ownerIs(NS, name))).lbs).toEqual([]);
    expect(mutatingDelta(callsBefore, await op.awsCalls())).toEqual({});

    const privateSubnets = account.subnets.filter((s) => s.role === 'private').map((s) => s.id);
    await c.kube.patch(NLB_RESOURCE, { name, namespace: NS }, { spec: { subnets: privateSubnets } });
    const cr = await readyNlb(name);
    const { lbs, tgs } = await ourElbResources(c, CLUSTER, ownerIs(NS, name));
    expect(lbs.map((l) => [l.arn, l.scheme])).toEqual([[cr.status?.loadBalancerArn, 'internal']]);
    expect(await targetsOf(c, tgs[0]!.arn)).toEqual([{ id: account.instanceIds[0], port: 30900 }]);
    expect(tgs[0]?.tags['kubernetes.io/service-name']).toBeUndefined();

    await c.kube.delete(NLB_RESOURCE, { name, namespace: NS });
    await waitFor('CR gone', async () => !(await getNlb(name)));
    const left = await ourElbResources(c, CLUSTER, ownerIs(NS, name));
    expect([...left.lbs, ...left.tgs]).toEqual([]);
  });

  it('deleting the Service removes everything it made (NLB, listeners, target groups, rules); the baseline group is untouched', async () => {
    const cr = await getNlb(NAME);
    const lbArn = cr?.status?.loadBalancerArn;
    await deleteAndWait(NAME);
    expect(await getNlb(NAME)).toBeUndefined();
    const left = await ourElbResources(c, CLUSTER);
    expect(left.lbs.filter((l) => l.tags[OWNER_KIND_TAG] === 'NetworkLoadBalancer')).toEqual([]);
    expect(left.tgs.filter((t) => t.tags[OWNER_KIND_TAG] === 'NetworkLoadBalancer')).toEqual([]);
    if (lbArn) await expect(listenersOf(c, lbArn)).rejects.toThrow();
    const rules = (await sgRules(account.clusterSecurityGroupId)).filter((r) => parseOwnerDescription(r.Description)?.kind === 'NetworkLoadBalancer');
    expect(rules).toEqual([]);
    const groups = await describeSecurityGroups(c.ec2, { filters: [{ Name: `tag:${OWNER_KIND_TAG}`, Values: ['NetworkLoadBalancer'] }, { Name: `tag:${OWNER_TAG}`, Values: [`${NS}/${NAME}`] }] });
    expect(groups).toEqual([]);
    expect(JSON.stringify(await sgRules(account.baselineSecurityGroupId))).toBe(baselineBefore);
  });
});
