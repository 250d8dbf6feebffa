// Issue #22, defects 2 and 3, as tenants meet them on the testbed: what a NetworkLoadBalancer (hand-
// written or translated) may open on the cluster's node security group. The operator runs as its own
// process; Kubernetes and moto are read directly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Service } from '@kubernetes/client-node';
import { AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, DescribeSecurityGroupRulesCommand, type SecurityGroupRule } from '@aws-sdk/client-ec2';
import type { NetworkLoadBalancer } from '@kube-iaas/crds';
import { OWNER_KIND_TAG, OWNER_TAG, ownedTags, ownerDescription, toTagSpecifications, type Tags } from '@kube-iaas/core/tags';
import { describeSecurityGroups } from '@kube-iaas/core/aws';
import { resources, type KubeObject } from '@kube-iaas/core/runtime';
import { readState } from '@kube-iaas/testbed';
import { testbedEnv } from '@kube-iaas/testbed/testing';
import { ANNOTATIONS, NLB_RESOURCE } from '../../src/constants.ts';
import { OperatorProcess, clients, mutatingDelta, ourElbResources, waitFor, type Clients } from './harness.ts';

const CLUSTER = testbedEnv().clusterName;
const account = readState()?.account;
if (!account) throw new Error('testbed account not seeded');
const NODE_SG = account.clusterSecurityGroupId;
const TENANTS = ['tenant-a', 'tenant-b', 'tenant-c'];
const ownerIs = (ns: string, name: string) => (t: Tags) => t[OWNER_KIND_TAG] === 'NetworkLoadBalancer' && t[OWNER_TAG] === `${ns}/${name}`;

type Ev = KubeObject & { reason?: string; type?: string; message?: string; involvedObject?: { kind?: string; name?: string; uid?: string } };

let c: Clients;
let op: OperatorProcess;

function service(namespace: string, name: string, annotations: Record<string, string> = {}): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, annotations: { [ANNOTATIONS.type]: 'nlb', ...annotations } },
    spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
  };
}

const getNlb = (ns: string, name: string) => c.kube.get<NetworkLoadBalancer>(NLB_RESOURCE, name, ns);
const condition = async (ns: string, name: string, type: string) => (await getNlb(ns, name))?.status?.conditions?.find((x) => x.type === type);

async function ingressRules(groupId: string): Promise<SecurityGroupRule[]> {
  const out = await c.ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] }));
  return (out.SecurityGroupRules ?? []).filter((r) => !r.IsEgress);
}

async function readyNlb(ns: string, name: string): Promise<NetworkLoadBalancer> {
  return waitFor(`NetworkLoadBalancer ${ns}/${name} Ready`, async () => {
    const cr = await getNlb(ns, name);
    return cr?.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') && cr.status.observedGeneration === cr.metadata.generation ? cr : undefined;
  }, 90_000);
}

/** A Warning on this very object (by UID: Events of an earlier object of the same name do not count). */
async function warningOn(ns: string, kind: string, name: string, includes: string): Promise<Ev> {
  const resource = kind === 'Service' ? resources.Service : NLB_RESOURCE;
  const uid = (await c.kube.get<KubeObject>(resource, name, ns))?.metadata?.uid;
  expect(uid).toBeDefined();
  return waitFor(`Warning on ${kind} ${ns}/${name} mentioning ${includes}`, async () => {
    const evs = await c.kube.list<Ev>(resources.Event, { namespace: ns });
    return evs.items.find((e) => e.type === 'Warning' && e.involvedObject?.kind === kind && e.involvedObject.uid === uid && e.message?.includes(includes));
  }, 60_000);
}

async function backendGroupId(): Promise<string | undefined> {
  const groups = await describeSecurityGroups(c.ec2, { filters: [{ Name: `tag:${OWNER_KIND_TAG}`, Values: ['NetworkLoadBalancerBackend'] }, { Name: 'tag:kube-iaas.dev/cluster', Values: [CLUSTER] }] });
  return groups[0]?.id;
}

async function removeAll(): Promise<void> {
  for (const ns of TENANTS) {
    for (const s of (await c.kube.list<V1Service>(resources.Service, { namespace: ns })).items) await c.kube.delete(resources.Service, { name: s.metadata?.name ?? '', namespace: ns });
    for (const n of (await c.kube.list<NetworkLoadBalancer>(NLB_RESOURCE, { namespace: ns })).items) await c.kube.delete(NLB_RESOURCE, { name: n.metadata.name ?? '', namespace: ns });
  }
  await waitFor('tenant NetworkLoadBalancers gone', async () => {
    for (const ns of TENANTS) if ((await c.kube.list<NetworkLoadBalancer>(NLB_RESOURCE, { namespace: ns })).items.length > 0) return false;
    return true;
  }, 120_000);
}

/** `count` CIDRs that no merging can reduce (every other /24), distinct per `seed`. */
const cidrs = (seed: number, count: number) => Array.from({ length: count }, (_, i) => `${100 + seed}.${2 * i}.0.0/24`);

beforeAll(async () => {
  c = clients();
  for (const ns of TENANTS) if (!(await c.kube.get(resources.Namespace, ns))) await c.kube.create(resources.Namespace, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  op = await OperatorProcess.start();
  await removeAll();
});

afterAll(async () => {
  if (op) await removeAll().catch(() => undefined);
  await op?.stop();
});

describe('security groups and node ports between tenants', () => {
  it('a hand-written internet-facing NLB to the kubelet (10250) and SSH (22) ports is refused naming the fields; nothing is added to the node group', async () => {
    const ns = 'tenant-a';
    const name = 'node-ports';
    const rulesBefore = (await ingressRules(NODE_SG)).map((r) => r.SecurityGroupRuleId).sort();
    const callsBefore = await op.awsCalls();
    await c.kube.create(NLB_RESOURCE, {
      apiVersion: 'elb.kube-iaas.dev/v1alpha1',
      kind: 'NetworkLoadBalancer',
      metadata: { name, namespace: ns },
      spec: {
        scheme: 'internet-facing',
        listeners: [
          { port: 10250, protocol: 'TCP', targetPort: 10250 },
          { port: 22, protocol: 'TCP', targetPort: 22 },
        ],
        targets: { instanceIds: [...account.instanceIds] },
      },
    });
    const synced = await waitFor('Synced=False', () => condition(ns, name, 'Synced').then((x) => (x?.status === 'False' ? x : undefined)), 60_000);
    expect(synced.reason).toBe('InvalidSpec');
    expect(synced.message).toContain('spec.listeners[0].targetPort');
    expect(synced.message).toContain('spec.listeners[1].targetPort');
    expect(synced.message).toContain('30000-32767');
    expect((await condition(ns, name, 'Ready'))?.status).toBe('False');
    await warningOn(ns, 'NetworkLoadBalancer', name, 'spec.listeners[0].targetPort');

    expect((await ingressRules(NODE_SG)).map((r) => r.SecurityGroupRuleId).sort()).toEqual(rulesBefore);
    expect((await ingressRules(NODE_SG)).filter((r) => r.FromPort === 10250 || r.FromPort === 22)).toEqual([]);
    expect((await ourElbResources(c, CLUSTER, ownerIs(ns, name))).lbs).toEqual([]);
    expect(mutatingDelta(callsBefore, await op.awsCalls())).toEqual({});
  });

  it('the Service annotation aws-load-balancer-healthcheck-port: "22" is refused naming it; the working NLB stays and tcp/22 is opened nowhere', async () => {
    const ns = 'tenant-a';
    const name = 'hc';
    await c.kube.create(resources.Service, service(ns, name));
    const cr = await readyNlb(ns, name);
    const before = (await ourElbResources(c, CLUSTER, ownerIs(ns, name))).lbs;
    expect(before.map((l) => l.arn)).toEqual([cr.status?.loadBalancerArn]);
    const tgBefore = (await ourElbResources(c, CLUSTER, ownerIs(ns, name))).tgs;
    const callsBefore = await op.awsCalls();

    await c.kube.patch(resources.Service, { name, namespace: ns }, { metadata: { annotations: { [ANNOTATIONS.healthcheckPort]: '22' } } });
    const warning = await warningOn(ns, 'Service', name, ANNOTATIONS.healthcheckPort);
    expect(warning.message).toContain('22');
    await waitFor('Synced=False or Accepted=False', async () => {
      const conditions = (await getNlb(ns, name))?.status?.conditions ?? [];
      return conditions.some((x) => (x.type === 'Synced' || x.type === 'Accepted') && x.status === 'False');
    });
    await new Promise((r) => setTimeout(r, 1500));

    const after = await ourElbResources(c, CLUSTER, ownerIs(ns, name));
    expect(after.lbs.map((l) => l.arn)).toEqual(before.map((l) => l.arn));
    expect(after.tgs.map((t) => [t.arn, t.healthCheck?.port])).toEqual(tgBefore.map((t) => [t.arn, t.healthCheck?.port]));
    expect((await condition(ns, name, 'Ready'))?.status).toBe('True');
    const groups = [NODE_SG, ...after.lbs.flatMap((l) => l.securityGroupIds)];
    for (const g of groups) expect((await ingressRules(g)).filter((r) => r.FromPort === 22 || r.ToPort === 22)).toEqual([]);
    expect(mutatingDelta(callsBefore, await op.awsCalls())).toEqual({});

    await c.kube.patch(resources.Service, { name, namespace: ns }, { metadata: { annotations: { [ANNOTATIONS.healthcheckPort]: null } } });
    await waitFor('Synced=True again', async () => (await condition(ns, name, 'Synced'))?.status === 'True');
  });

  it('source ranges across tenants: 60 in one Service are refused by the cap naming the annotation; 3 tenants × 20 do not grow the node group, and another namespace still gets its NLB', async () => {
    const nodeBefore = await ingressRules(NODE_SG);
    const callsBefore = await op.awsCalls();
    await c.kube.create(resources.Service, service('tenant-a', 'ranges', { [ANNOTATIONS.sourceRanges]: cidrs(0, 60).join(',') }));
    const warning = await warningOn('tenant-a', 'Service', 'ranges', ANNOTATIONS.sourceRanges);
    expect(warning.message).toMatch(/at most 20/);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await ingressRules(NODE_SG)).length).toBe(nodeBefore.length);
    expect((await ourElbResources(c, CLUSTER, ownerIs('tenant-a', 'ranges'))).lbs).toEqual([]);
    expect(mutatingDelta(callsBefore, await op.awsCalls())).toEqual({});

    // The same tenant within the cap, and two more tenants at the cap: 60 client CIDRs in all.
    await c.kube.patch(resources.Service, { name: 'ranges', namespace: 'tenant-a' }, { metadata: { annotations: { [ANNOTATIONS.sourceRanges]: cidrs(0, 20).join(',') } } });
    await c.kube.create(resources.Service, service('tenant-b', 'ranges', { [ANNOTATIONS.sourceRanges]: cidrs(1, 20).join(',') }));
    await c.kube.create(resources.Service, service('tenant-c', 'ranges', { [ANNOTATIONS.sourceRanges]: cidrs(2, 20).join(',') }));
    for (const ns of ['tenant-a', 'tenant-b', 'tenant-c']) await readyNlb(ns, 'ranges');
    // Another namespace's load balancer still works.
    await c.kube.create(resources.Service, service('tenant-b', 'other'));
    const other = await readyNlb('tenant-b', 'other');
    expect(other.status?.dnsName).toBeTruthy();
    await waitFor('hostname on the other Service', async () => (await c.kube.get<V1Service>(resources.Service, 'other', 'tenant-b'))?.status?.loadBalancer?.ingress?.[0]?.hostname === other.status?.dnsName);

    // The node group: no client CIDR of any tenant, and at most the one rule from the shared backend
    // group (present already when an earlier test created a load balancer).
    const backend = await backendGroupId();
    expect(backend).toBeDefined();
    const nodeAfter = await ingressRules(NODE_SG);
    const added = nodeAfter.filter((r) => !nodeBefore.some((b) => b.SecurityGroupRuleId === r.SecurityGroupRuleId));
    expect(added.length).toBeLessThanOrEqual(1);
    const fromBackend = nodeAfter.filter((r) => r.ReferencedGroupInfo?.GroupId === backend);
    expect(fromBackend.map((r) => [r.IpProtocol, r.FromPort, r.ToPort])).toEqual([['tcp', 30000, 32767]]);
    const tenantCidrs = new Set([...cidrs(0, 20), ...cidrs(1, 20), ...cidrs(2, 20)]);
    expect(nodeAfter.filter((r) => r.CidrIpv4 && tenantCidrs.has(r.CidrIpv4))).toEqual([]);

    // Each tenant's CIDRs are on its load balancer's own group, which the NLB carries with the backend group.
    for (const [seed, ns] of ['tenant-a', 'tenant-b', 'tenant-c'].entries()) {
      const lb = (await ourElbResources(c, CLUSTER, ownerIs(ns, 'ranges'))).lbs[0]!;
      expect(lb.securityGroupIds).toHaveLength(2);
      expect(lb.securityGroupIds).toContain(backend);
      const frontend = lb.securityGroupIds.find((g) => g !== backend)!;
      const rules = await ingressRules(frontend);
      expect(rules.map((r) => r.CidrIpv4).sort()).toEqual(cidrs(seed, 20).sort());
      expect(rules.every((r) => r.IpProtocol === 'tcp' && r.FromPort === 80 && r.ToPort === 80)).toBe(true);
    }
  });

  it('an NLB created without security groups (the old layout, rules on the node group) keeps its DNS name and traffic: merged rules are added before the old ones go', async () => {
    const ns = 'tenant-c';
    const name = 'legacy';
    // An NLB as an earlier version made it: no security groups, one node-group rule per client CIDR on
    // the NodePort and one per public subnet for health checks, each described with the owner.
    await op.stop();
    op = await OperatorProcess.start(['--manage-security-group-rules=false']);
    await c.kube.create(resources.Service, service(ns, name, { [ANNOTATIONS.sourceRanges]: '203.0.113.0/25,203.0.113.128/25' }));
    const cr = await readyNlb(ns, name);
    const lb = (await ourElbResources(c, CLUSTER, ownerIs(ns, name))).lbs[0]!;
    expect(lb.securityGroupIds).toEqual([]);
    const nodePort = cr.status?.targetGroups?.[0]?.targetPort ?? 0;
    expect(nodePort).toBeGreaterThan(0);
    const description = ownerDescription(CLUSTER, { kind: 'NetworkLoadBalancer', namespace: ns, name, uid: cr.metadata.uid ?? '' });
    const publicCidrs = account.subnets.filter((x) => x.role === 'public').map((x) => x.cidr);
    const old = ['203.0.113.0/25', '203.0.113.128/25', ...publicCidrs];
    await c.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({ GroupId: NODE_SG, IpPermissions: [{ IpProtocol: 'tcp', FromPort: nodePort, ToPort: nodePort, IpRanges: old.map((CidrIp) => ({ CidrIp, Description: description })) }] }),
    );
    await op.stop();

    op = await OperatorProcess.start();
    // Wake it: a resync period of 1h would otherwise wait.
    await c.kube.patch(NLB_RESOURCE, { name, namespace: ns }, { metadata: { labels: { touched: String(Date.now()) } } });
    const ours = async () => (await ingressRules(NODE_SG)).filter((r) => r.Description === description);
    await waitFor('node-group rules merged', async () => {
      const cidrsNow = (await ours()).map((r) => r.CidrIpv4).sort();
      return JSON.stringify(cidrsNow) === JSON.stringify(['203.0.113.0/24', ...publicCidrs].sort());
    }, 60_000);
    const after = (await ourElbResources(c, CLUSTER, ownerIs(ns, name))).lbs;
    expect(after.map((l) => [l.arn, l.dnsName, l.securityGroupIds])).toEqual([[lb.arn, lb.dnsName, []]]);
    expect((await readyNlb(ns, name)).status?.dnsName).toBe(lb.dnsName);
    // The merged rule came before the old ones went.
    const evs = (await c.kube.list<Ev & { lastTimestamp?: string; eventTime?: string; metadata?: { creationTimestamp?: string } }>(resources.Event, { namespace: ns })).items.filter((e) => e.involvedObject?.name === name);
    const when = (reason: string) => evs.filter((e) => e.reason === reason && e.message?.includes('203.0.113.')).map((e) => e.metadata?.creationTimestamp ?? '')[0] ?? '';
    expect(when('AuthorizedIngress')).not.toBe('');
    expect(when('RevokedIngress') >= when('AuthorizedIngress')).toBe(true);
  });

  it('deleting the tenants\' Services removes their NLBs and frontend groups; the shared backend group and its one node rule stay', async () => {
    await removeAll();
    const left = await describeSecurityGroups(c.ec2, { filters: [{ Name: `tag:${OWNER_KIND_TAG}`, Values: ['NetworkLoadBalancer'] }, { Name: 'tag:kube-iaas.dev/cluster', Values: [CLUSTER] }] });
    expect(left.filter((g) => TENANTS.some((ns) => g.tags[OWNER_TAG]?.startsWith(`${ns}/`)))).toEqual([]);
    const backend = await backendGroupId();
    expect(backend).toBeDefined();
    expect((await ingressRules(NODE_SG)).filter((r) => r.ReferencedGroupInfo?.GroupId === backend)).toHaveLength(1);
  });

  it('the frontend group of a NetworkLoadBalancer that is gone is collected by the orphan sweep', async () => {
    const ghost = { kind: 'NetworkLoadBalancer', namespace: 'tenant-b', name: 'ghost', uid: '00000000-dead-beef-0000-000000000001' };
    const out = await c.ec2.send(
      new CreateSecurityGroupCommand({ GroupName: 'k8s-tenant-b-ghost-frontend', Description: 'left by a crashed operator', VpcId: account.vpcId, TagSpecifications: toTagSpecifications('security-group', ownedTags(CLUSTER, ghost)) }),
    );
    expect(out.GroupId).toBeDefined();
    await waitFor('orphan group collected', async () => (await describeSecurityGroups(c.ec2, { filters: [{ Name: 'group-id', Values: [out.GroupId!] }] })).length === 0, 30_000);
    // Events about a Namespace (cluster-scoped) are recorded in `default`.
    await waitFor('OrphansCollected naming the group', async () => {
      const evs = await c.kube.list<Ev>(resources.Event, { namespace: 'default' });
      return evs.items.some((e) => e.reason === 'OrphansCollected' && e.involvedObject?.name === 'tenant-b' && e.message?.includes('1 security group(s)') && e.message.includes('ghost'));
    });
  });

  it('a cluster admin may allow more node ports (--allowed-target-ports=10250); the backend rule follows the flag both ways', async () => {
    const ns = 'tenant-a';
    await op.stop();
    op = await OperatorProcess.start(['--allowed-target-ports=10250']);
    await c.kube.create(NLB_RESOURCE, {
      apiVersion: 'elb.kube-iaas.dev/v1alpha1',
      kind: 'NetworkLoadBalancer',
      metadata: { name: 'kubelet', namespace: ns },
      spec: { scheme: 'internal', listeners: [{ port: 10250, protocol: 'TCP', targetPort: 10250 }], targets: { instanceIds: [...account.instanceIds] } },
    });
    await readyNlb(ns, 'kubelet');
    const backend = await backendGroupId();
    const fromBackend = async () => (await ingressRules(NODE_SG)).filter((r) => r.ReferencedGroupInfo?.GroupId === backend).map((r) => [r.IpProtocol, r.FromPort, r.ToPort]);
    expect((await fromBackend()).sort()).toEqual([['tcp', 10250, 10250], ['tcp', 30000, 32767]]);
    expect((await ingressRules(NODE_SG)).filter((r) => r.FromPort === 10250 && r.CidrIpv4)).toEqual([]);

    // Without the flag the NLB to 10250 is refused (and kept: it works), and the extra rule goes.
    await op.stop();
    op = await OperatorProcess.start();
    await c.kube.patch(NLB_RESOURCE, { name: 'kubelet', namespace: ns }, { metadata: { labels: { touched: String(Date.now()) } } });
    const synced = await waitFor('Synced=False', () => condition(ns, 'kubelet', 'Synced').then((x) => (x?.status === 'False' ? x : undefined)), 60_000);
    expect(synced.message).toContain('spec.listeners[0].targetPort');
    expect((await ourElbResources(c, CLUSTER, ownerIs(ns, 'kubelet'))).lbs).toHaveLength(1);
    await c.kube.create(resources.Service, service(ns, 'after'));
    await readyNlb(ns, 'after');
    await waitFor('backend rule for 10250 revoked', async () => JSON.stringify(await fromBackend()) === JSON.stringify([['tcp', 30000, 32767]]), 30_000);
    await removeAll();
  });
});
