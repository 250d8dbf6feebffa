// Issue 22 on the testbed: a NetworkLoadBalancer applied by hand gets no more power than the Service that
// would have produced it, attribute keys and values are checked before any AWS call, and every bad
// annotation is named. Two tenant namespaces; the operator runs as its own process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Service } from '@kubernetes/client-node';
import { DescribeLoadBalancerAttributesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { readState } from '@kube-iaas/testbed';
import type { NetworkLoadBalancer } from '@kube-iaas/crds';
import { OWNER_KIND_TAG, OWNER_TAG, type Tags } from '@kube-iaas/core/tags';
import { resources, type KubeObject } from '@kube-iaas/core/runtime';
import { testbedEnv } from '@kube-iaas/testbed/testing';
import { ANNOTATIONS, NLB_RESOURCE } from '../../src/constants.ts';
import { OperatorProcess, clients, mutatingDelta, ourElbResources, waitFor, type Clients } from './harness.ts';

const CLUSTER = testbedEnv().clusterName;
const account = readState()?.account;
if (!account) throw new Error('testbed account not seeded');
const A = 'tenant-a';
const B = 'tenant-b';
const WEB = 'web';
const ownerIs = (ns: string, name: string) => (t: Tags) => t[OWNER_KIND_TAG] === 'NetworkLoadBalancer' && t[OWNER_TAG] === `${ns}/${name}`;

type Ev = KubeObject & { reason?: string; type?: string; message?: string; involvedObject?: { kind?: string; name?: string; namespace?: string } };

let c: Clients;
let op: OperatorProcess;

function service(ns: string, name: string, annotations: Record<string, string> = {}): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns, annotations: { [ANNOTATIONS.type]: 'nlb', ...annotations } },
    spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' }] },
  };
}

function handNlb(ns: string, name: string, spec: Record<string, unknown>) {
  return { apiVersion: 'elb.kube-iaas.dev/v1alpha1', kind: 'NetworkLoadBalancer', metadata: { name, namespace: ns }, spec };
}

const getSvc = (ns: string, name: string) => c.kube.get<V1Service>(resources.Service, name, ns);
const getNlb = (ns: string, name: string) => c.kube.get<NetworkLoadBalancer>(NLB_RESOURCE, name, ns);
const hostnameOf = async (ns: string, name: string) => (await getSvc(ns, name))?.status?.loadBalancer?.ingress?.[0]?.hostname;
const condition = async (ns: string, name: string, type: string) => (await getNlb(ns, name))?.status?.conditions?.find((x) => x.type === type);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function warnings(ns: string, kind: string, name: string): Promise<Ev[]> {
  const evs = await c.kube.list<Ev>(resources.Event, { namespace: ns });
  return evs.items.filter((e) => e.type === 'Warning' && e.involvedObject?.kind === kind && e.involvedObject.name === name);
}

async function deleteService(ns: string, name: string): Promise<void> {
  if (!(await getSvc(ns, name))) return;
  await c.kube.delete(resources.Service, { name, namespace: ns });
  await waitFor(`Service ${ns}/${name} gone`, async () => !(await getSvc(ns, name)), 90_000);
}

async function deleteNlb(ns: string, name: string): Promise<void> {
  if (!(await getNlb(ns, name))) return;
  await c.kube.delete(NLB_RESOURCE, { name, namespace: ns });
  await waitFor(`NetworkLoadBalancer ${ns}/${name} gone`, async () => !(await getNlb(ns, name)), 90_000);
}

async function cleanUp(): Promise<void> {
  for (const [ns, name] of [[A, 'hijack'], [A, 'bad-attrs'], [B, 'reach-over'], [B, 'foreign']] as const) await deleteNlb(ns, name);
  for (const [ns, name] of [[A, WEB], [A, 'attrs'], [A, 'two-bad']] as const) await deleteService(ns, name);
}

beforeAll(async () => {
  c = clients();
  for (const ns of [A, B]) {
    if (!(await c.kube.get(resources.Namespace, ns))) await c.kube.create(resources.Namespace, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  }
  op = await OperatorProcess.start();
  await cleanUp();
});

afterAll(async () => {
  if (op) await cleanUp().catch(() => undefined);
  await op?.stop();
});

describe('lb-operator: safety between tenants (issue 22)', () => {
  it('a hand NetworkLoadBalancer naming a Service another NLB serves gets ServiceConflict, creates nothing, and never takes the hostname', async () => {
    await c.kube.create(resources.Service, service(A, WEB));
    const hostname = await waitFor('web hostname', () => hostnameOf(A, WEB), 90_000);
    const callsBefore = await op.awsCalls();

    // The hijack: same namespace, serviceRef to the served Service, internet-facing, NodePorts from the Service.
    await c.kube.create(NLB_RESOURCE, handNlb(A, 'hijack', { serviceRef: { name: WEB }, scheme: 'internet-facing', listeners: [{ port: 8080 }] }));
    const conflict = await waitFor('ServiceConflict on the hijacker', async () => {
      const s = await condition(A, 'hijack', 'Synced');
      return s?.status === 'False' && s.reason === 'ServiceConflict' ? s : undefined;
    });
    expect(conflict.message).toContain(`${A}/${WEB}`);
    expect((await condition(A, 'hijack', 'Ready'))?.reason).toBe('ServiceConflict');
    expect((await warnings(A, 'NetworkLoadBalancer', 'hijack')).some((e) => e.reason === 'ServiceConflict')).toBe(true);
    // Nothing in AWS for it, no AWS change at all, and the Service keeps the hostname of the NLB it owns.
    await sleep(3000);
    expect((await ourElbResources(c, CLUSTER, ownerIs(A, 'hijack'))).lbs).toEqual([]);
    expect(mutatingDelta(callsBefore, await op.awsCalls())).toEqual({});
    expect(await hostnameOf(A, WEB)).toBe(hostname);

    // Deleting the hijacker leaves the Service served as before.
    await deleteNlb(A, 'hijack');
    await sleep(2000);
    expect(await hostnameOf(A, WEB)).toBe(hostname);
    expect((await getNlb(A, WEB))?.status?.dnsName).toBe(hostname);
  });

  it("a hostname written into the Service's status by anyone else is put back at once by the NLB the Service owns", async () => {
    const hostname = await waitFor('web hostname', () => hostnameOf(A, WEB));
    await c.kube.patch(resources.Service, { name: WEB, namespace: A }, { status: { loadBalancer: { ingress: [{ hostname: 'hijacked.example.com' }] } } }, { subresource: 'status' });
    const started = Date.now();
    await waitFor('hostname restored', async () => (await hostnameOf(A, WEB)) === hostname, 10_000, 100);
    console.log(`hostname restored ${Date.now() - started} ms after a foreign status write`);
  });

  it('a hand NetworkLoadBalancer cannot reach a Service of another namespace: serviceRef has no namespace', async () => {
    const hostname = await hostnameOf(A, WEB);
    const callsBefore = await op.awsCalls();
    await c.kube.create(NLB_RESOURCE, handNlb(B, 'reach-over', { serviceRef: { name: WEB, namespace: A }, scheme: 'internet-facing', listeners: [{ port: 8080 }] }));
    // The API server drops the field the schema does not have; the name is looked up in tenant-b only.
    expect((await getNlb(B, 'reach-over'))?.spec.serviceRef).toEqual({ name: WEB });
    const bad = await waitFor('Synced=False', async () => {
      const s = await condition(B, 'reach-over', 'Synced');
      return s?.status === 'False' ? s : undefined;
    });
    expect(bad.message).toContain(`Service ${WEB} does not exist`);
    expect((await ourElbResources(c, CLUSTER, ownerIs(B, 'reach-over'))).lbs).toEqual([]);
    expect(mutatingDelta(callsBefore, await op.awsCalls())).toEqual({});
    expect(await hostnameOf(A, WEB)).toBe(hostname);
    await deleteNlb(B, 'reach-over');
  });

  it("a hand NetworkLoadBalancer cannot put an instance that is not one of the cluster's Nodes behind a load balancer", async () => {
    // Another team's instance in the same VPC: no cluster tag, so it never becomes a Node.
    const run = await c.ec2.send(
      new RunInstancesCommand({ ImageId: 'ami-0k8s137node0000', InstanceType: 'c5.large', MinCount: 1, MaxCount: 1, SubnetId: account.subnets.find((x) => x.role === 'private')!.id, SecurityGroupIds: [account.baselineSecurityGroupId] }),
    );
    const foreign = run.Instances![0]!.InstanceId!;
    try {
      const callsBefore = await op.awsCalls();
      await c.kube.create(NLB_RESOURCE, handNlb(B, 'foreign', { scheme: 'internet-facing', listeners: [{ port: 5432, targetPort: 30432 }], targets: { instanceIds: [foreign] } }));
      const bad = await waitFor('Synced=False naming spec.targets.instanceIds', async () => {
        const s = await condition(B, 'foreign', 'Synced');
        return s?.status === 'False' ? s : undefined;
      });
      expect(bad.reason).toBe('InvalidSpec');
      expect(bad.message).toContain(`spec.targets.instanceIds: ${foreign}`);
      await sleep(2000);
      expect((await ourElbResources(c, CLUSTER, ownerIs(B, 'foreign'))).lbs).toEqual([]);
      expect(mutatingDelta(callsBefore, await op.awsCalls())).toEqual({});
      // A Node's instance is fine.
      await c.kube.patch(NLB_RESOURCE, { name: 'foreign', namespace: B }, { spec: { scheme: 'internal', targets: { instanceIds: [account.instanceIds[0]!] } } });
      await waitFor('Ready', async () => (await condition(B, 'foreign', 'Ready'))?.status === 'True', 90_000);
      await deleteNlb(B, 'foreign');
    } finally {
      await c.ec2.send(new TerminateInstancesCommand({ InstanceIds: [foreign] }));
    }
  });

  it('unknown attribute keys and bad values in the annotations are refused before any AWS call, each annotation named', async () => {
    const callsBefore = await op.awsCalls();
    await c.kube.create(
      resources.Service,
      service(A, 'attrs', { [ANNOTATIONS.attributes]: 'a=b=c', [ANNOTATIONS.targetGroupAttributes]: 'deregistration_delay.timeout_seconds=forever' }),
    );
    const evs = await waitFor('a Warning per annotation', async () => {
      const ws = (await warnings(A, 'Service', 'attrs')).filter((e) => e.reason === 'InvalidLoadBalancerSpec');
      const lb = ws.find((e) => e.message?.startsWith(`${ANNOTATIONS.attributes}:`));
      const tg = ws.find((e) => e.message?.startsWith(`${ANNOTATIONS.targetGroupAttributes}:`));
      return lb && tg ? { lb, tg } : undefined;
    });
    expect(evs.lb.message).toContain('unknown Network Load Balancer attribute "a"');
    expect(evs.tg.message).toContain('deregistration_delay.timeout_seconds');
    await sleep(3000);
    expect(await getNlb(A, 'attrs')).toBeUndefined();
    expect((await ourElbResources(c, CLUSTER, ownerIs(A, 'attrs'))).lbs).toEqual([]);
    expect(mutatingDelta(callsBefore, await op.awsCalls())).toEqual({});

    // Fixed: the NLB is built with the attribute set.
    await c.kube.patch(resources.Service, { name: 'attrs', namespace: A }, {
      metadata: { annotations: { [ANNOTATIONS.attributes]: 'load_balancing.cross_zone.enabled=true', [ANNOTATIONS.targetGroupAttributes]: 'deregistration_delay.timeout_seconds=30' } },
    });
    await waitFor('attrs hostname', () => hostnameOf(A, 'attrs'), 90_000);
    const lb = (await ourElbResources(c, CLUSTER, ownerIs(A, 'attrs'))).lbs[0]!;
    const attrs = (await c.elbv2.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: lb.arn }))).Attributes ?? [];
    expect(attrs.find((x) => x.Key === 'load_balancing.cross_zone.enabled')?.Value).toBe('true');
    await deleteService(A, 'attrs');
  });

  it('the API server refuses a hand NetworkLoadBalancer with an unknown attribute key or a bad value, naming the field', async () => {
    const callsBefore = await op.awsCalls();
    const base = { scheme: 'internal', listeners: [{ port: 9000, targetPort: 30900 }], targets: { instanceIds: ['i-0123456789abcdef0'] } };
    await expect(c.kube.create(NLB_RESOURCE, handNlb(A, 'bad-attrs', { ...base, attributes: { a: 'b=c' } }))).rejects.toThrow(/spec\.attributes.*unknown Network Load Balancer attribute/);
    await expect(c.kube.create(NLB_RESOURCE, handNlb(A, 'bad-attrs', { ...base, attributes: { 'deletion_protection.enabled': 'yes' } }))).rejects.toThrow(
      /spec\.attributes.*deletion_protection\.enabled must be "true" or "false"/,
    );
    await expect(c.kube.create(NLB_RESOURCE, handNlb(A, 'bad-attrs', { ...base, targetGroupAttributes: { 'stickiness.type': 'lb_cookie' } }))).rejects.toThrow(
      /spec\.targetGroupAttributes.*stickiness\.type must be one of "source_ip"/,
    );
    expect(await getNlb(A, 'bad-attrs')).toBeUndefined();
    expect(mutatingDelta(callsBefore, await op.awsCalls())).toEqual({});
  });

  it('a served Service with several bad annotations names each one, in the Accepted condition and in Warning Events', async () => {
    await c.kube.create(resources.Service, service(A, 'two-bad'));
    await waitFor('two-bad hostname', () => hostnameOf(A, 'two-bad'), 90_000);
    const before = (await ourElbResources(c, CLUSTER, ownerIs(A, 'two-bad'))).lbs.map((l) => l.arn);
    const callsBefore = await op.awsCalls();
    const bad = {
      [ANNOTATIONS.scheme]: 'public', // refused by the CRD's schema
      [ANNOTATIONS.attributes]: 'deletion_protection.enabled', // not key=value
      [ANNOTATIONS.healthcheckInterval]: 'often', // not a number
    };
    await c.kube.patch(resources.Service, { name: 'two-bad', namespace: A }, { metadata: { annotations: bad } });
    const accepted = await waitFor('Accepted=False', async () => {
      const s = await condition(A, 'two-bad', 'Accepted');
      return s?.status === 'False' ? s : undefined;
    });
    for (const key of Object.keys(bad)) expect(accepted.message).toContain(`${key}:`);
    await waitFor('a Warning naming each annotation', async () => {
      const ws = (await warnings(A, 'Service', 'two-bad')).filter((e) => e.reason === 'InvalidLoadBalancerSpec');
      return Object.keys(bad).every((key) => ws.some((e) => e.message?.includes(`${key}:`)));
    });
    expect((await getNlb(A, 'two-bad'))?.spec.scheme).toBe('internet-facing');
    expect((await ourElbResources(c, CLUSTER, ownerIs(A, 'two-bad'))).lbs.map((l) => l.arn)).toEqual(before);
    expect(mutatingDelta(callsBefore, await op.awsCalls())).toEqual({});
    await deleteService(A, 'two-bad');
  });
});
