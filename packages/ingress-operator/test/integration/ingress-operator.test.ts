// The article's §6 on the testbed, end to end, with the operator running as its own process (one process
// for the whole file; the crash case kills and restarts it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Ingress, V1IngressClass, V1Service } from '@kubernetes/client-node';
import { CreateTargetGroupCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeAutoScalingGroupsCommand, SetDesiredCapacityCommand, TerminateInstanceInAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { OWNER_KIND_TAG, OWNER_TAG, ownedTags, parseOwnerDescription, toElbTags, type Tags } from '@kube-iaas/core/tags';
import { resources, type KubeObject } from '@kube-iaas/core/runtime';
import { readState } from '@kube-iaas/testbed';
import { testbedEnv } from '@kube-iaas/testbed/testing';
import { ANNOTATIONS, FINALIZER } from '../../src/constants.ts';
import { ALB_RESOURCE } from '../../src/controllers/common.ts';
import { OperatorProcess, clients, listenersOf, mutatingDelta, ourAlbResources, rulesOf, ingressObjects, sgRules, sourceGroupRules, targetsOf, waitFor, type Clients } from './harness.ts';

const CLUSTER = testbedEnv().clusterName;
const account = readState()?.account;
if (!account) throw new Error('testbed account not seeded');
const NS = 'default';
const ARTICLE = 'bootcamp';
const HOST = 'test.int32bit.me';
const ownerIs = (name: string) => (t: Tags) => t[OWNER_TAG] === `${NS}/${name}`;

type Ev = KubeObject & { reason?: string; type?: string; message?: string; involvedObject?: { kind?: string; name?: string } };
type Path = { path: string; service: string; port?: { number?: number; name?: string } };

let c: Clients;
let op: OperatorProcess;
let baselineBefore: string;

function service(name: string, type = 'NodePort'): V1Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec: { type, selector: { app: name }, ports: [{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' }] } };
}

function deployment(name: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: `jocatalin/kubernetes-bootcamp:${name.endsWith('v2') ? 'v2' : 'v1'}`, ports: [{ containerPort: 8080 }] }] } } },
  } as KubeObject;
}

const ARTICLE_ANNOTATIONS = { [ANNOTATIONS.scheme]: 'internet-facing', [ANNOTATIONS.listenPorts]: '[{"HTTP": 18080}]' };

function ingress(name: string, paths: Path[], annotations: Record<string, string> = ARTICLE_ANNOTATIONS, className: string | undefined = 'alb'): V1Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: NS, annotations },
    spec: {
      ...(className ? { ingressClassName: className } : {}),
      rules: [{ host: HOST, http: { paths: paths.map((p) => ({ path: p.path, pathType: 'Prefix', backend: { service: { name: p.service, port: p.port ?? { number: 8080 } } } })) } }],
    },
  };
}

const ARTICLE_PATHS: Path[] = [
  { path: '/v1', service: 'kubernetes-bootcamp-v1' },
  { path: '/v2', service: 'kubernetes-bootcamp-v2' },
];

const { getIng, getAlb, putIngress, deleteIngress, readyAlb } = ingressObjects(() => c, NS);
const getSvc = (name: string) => c.kube.get<V1Service>(resources.Service, name, NS);
const hostnameOf = async (name: string) => (await getIng(name))?.status?.loadBalancer?.ingress?.[0]?.hostname;
const nodePortOf = async (name: string) => (await getSvc(name))?.spec?.ports?.[0]?.nodePort;

async function ensure(type: Parameters<Clients['kube']['create']>[0], obj: KubeObject): Promise<void> {
  if (!(await c.kube.get(type, obj.metadata?.name ?? '', NS))) await c.kube.create(type, obj);
}

async function warning(name: string, needle: string): Promise<Ev> {
  return waitFor(`Warning on Ingress ${name} naming ${needle}`, async () => {
    const evs = await c.kube.list<Ev>(resources.Event, { namespace: NS });
    return evs.items.find((e) => e.type === 'Warning' && e.involvedObject?.kind === 'Ingress' && e.involvedObject.name === name && e.message?.includes(needle));
  });
}

/** The one ALB of an ApplicationLoadBalancer with its listener, rules and target groups as moto has them. */
async function albOf(name: string) {
  const { lbs, tgs, sgs } = await ourAlbResources(c, CLUSTER, ownerIs(name));
  expect(lbs).toHaveLength(1);
  const lb = lbs[0]!;
  const listeners = await listenersOf(c, lb.arn);
  const rules = listeners[0]?.ListenerArn ? await rulesOf(c, listeners[0].ListenerArn) : [];
  return { lb, tgs, sgs, listeners, rules };
}

beforeAll(async () => {
  c = clients();
  baselineBefore = JSON.stringify(await sgRules(c, account.baselineSecurityGroupId));
  op = await OperatorProcess.start();
  for (const n of [ARTICLE, 'shop-a', 'shop-b', 'shop-c', 'crash', 'public']) await deleteIngress(n);
  if (await getAlb('by-hand')) {
    await c.kube.delete(ALB_RESOURCE, { name: 'by-hand', namespace: NS });
    await waitFor('old by-hand gone', async () => !(await getAlb('by-hand')), 60_000);
  }
  for (const n of ['kubernetes-bootcamp-v1', 'kubernetes-bootcamp-v2', 'kubernetes-bootcamp-v3']) {
    await ensure(resources.Service, service(n));
    await ensure({ apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespaced: true }, deployment(n));
  }
  await ensure(resources.Service, service('cluster-only', 'ClusterIP'));
}, 180_000);

afterAll(async () => {
  await op?.stop();
  // The testbed is shared by every integration file: leave no pods behind (the eni-operator's tests count
  // the addresses each node hands out).
  const deployments = { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespaced: true } as const;
  for (const n of ['kubernetes-bootcamp-v1', 'kubernetes-bootcamp-v2', 'kubernetes-bootcamp-v3']) {
    await c.kube.delete(deployments, { name: n, namespace: NS }).catch(() => undefined);
    await c.kube.delete(resources.Service, { name: n, namespace: NS }).catch(() => undefined);
  }
  await c.kube.delete(resources.Service, { name: 'cluster-only', namespace: NS }).catch(() => undefined);
  await waitFor('bootcamp pods gone', async () => {
    const pods = await c.kube.list<KubeObject>(resources.Pod, { namespace: NS });
    return !pods.items.some((p) => p.metadata?.name?.startsWith('kubernetes-bootcamp-'));
  }, 120_000);
}, 180_000);

describe('ingress-operator on the testbed', () => {
  it('the IngressClass alb exists with controller kube-iaas.dev/alb', async () => {
    const cls = await waitFor('IngressClass alb', () => c.kube.get<V1IngressClass>(resources.IngressClass, 'alb'));
    expect(cls.spec?.controller).toBe('kube-iaas.dev/alb');
  });

  it("article flow: /v1 and /v2 on test.int32bit.me become an internet-facing ALB on 18080 in two AZs, host+path rules, a target group per Service with the three nodes on its NodePort, and the DNS name as the Ingress's ADDRESS", async () => {
    await c.kube.create(resources.Ingress, ingress(ARTICLE, ARTICLE_PATHS));
    const hostname = await waitFor('hostname in Ingress status', () => hostnameOf(ARTICLE), 90_000);
    const cr = await readyAlb(ARTICLE);
    expect(cr.status?.dnsName).toBe(hostname);
    expect(cr.metadata.ownerReferences?.map((o) => [o.kind, o.name])).toEqual([['Ingress', ARTICLE]]);
    expect(cr.metadata.finalizers).toContain(FINALIZER);
    expect((await getIng(ARTICLE))?.metadata?.finalizers).toContain(FINALIZER);

    const { lb, tgs, sgs, listeners, rules } = await albOf(ARTICLE);
    expect(lb.type).toBe('application');
    expect(lb.scheme).toBe('internet-facing');
    expect(lb.dnsName).toBe(hostname);
    expect(new Set(lb.zones.map((z) => z.zoneName)).size).toBe(2);
    expect(lb.zones.map((z) => z.subnetId).sort()).toEqual(account.subnets.filter((s) => s.role === 'public').map((s) => s.id).sort());
    expect(listeners.map((l) => [l.Port, l.Protocol])).toEqual([[18080, 'HTTP']]);

    const np1 = await nodePortOf('kubernetes-bootcamp-v1');
    const np2 = await nodePortOf('kubernetes-bootcamp-v2');
    expect(tgs).toHaveLength(2);
    const tgByPort = new Map(tgs.map((t) => [t.port, t]));
    expect([...tgByPort.keys()].sort()).toEqual([np1, np2].sort());
    expect(rules.map((r) => [r.hosts, r.paths])).toEqual([
      [[HOST], ['/v1', '/v1/*']],
      [[HOST], ['/v2', '/v2/*']],
    ]);
    expect(rules[0]?.targetGroupArns).toEqual([tgByPort.get(np1)?.arn]);
    expect(rules[1]?.targetGroupArns).toEqual([tgByPort.get(np2)?.arn]);
    for (const tg of tgs) {
      const targets = await targetsOf(c, tg.arn);
      expect(targets.map((t) => t.id).sort()).toEqual([...account.instanceIds].sort());
      expect(tg.targetType).toBe('instance');
    }
    expect(cr.status?.rules?.map((r) => [r.listenerPort, r.priority, !!r.ruleArn])).toEqual(rules.map((r) => [18080, r.priority, true]));
    expect(cr.status?.targetGroups?.map((t) => t.targets)).toEqual([3, 3]);

    // Our security group (open on 18080 to the world), tags on everything we made.
    expect(sgs).toHaveLength(1);
    expect(lb.securityGroupIds).toEqual([sgs[0]!.id]);
    const sgIngress = (await sgRules(c, sgs[0]!.id)).filter((r) => !r.egress);
    expect(sgIngress.map((r) => [r.fromPort, r.cidrIpv4])).toEqual([[18080, '0.0.0.0/0']]);
    for (const tags of [lb.tags, ...tgs.map((t) => t.tags), sgs[0]!.tags]) {
      expect(tags[`kubernetes.io/cluster/${CLUSTER}`]).toBe('owned');
      expect(tags['kube-iaas.dev/cluster']).toBe(CLUSTER);
      expect(tags['kube-iaas.dev/owner-kind']).toBe('ApplicationLoadBalancer');
      expect(tags['kube-iaas.dev/owner-uid']).toBe(cr.metadata.uid);
    }
    // The cluster-tagged node group lets the ALB's group reach both NodePorts; the baseline group is untouched.
    const backend = (await sourceGroupRules(c, account.clusterSecurityGroupId)).filter((r) => parseOwnerDescription(r.description)?.name === ARTICLE);
    expect(backend.map((r) => r.port).sort()).toEqual([np1, np2].sort());
    expect(backend.every((r) => r.sourceGroupId === sgs[0]!.id)).toBe(true);
    expect(JSON.stringify(await sgRules(c, account.baselineSecurityGroupId))).toBe(baselineBefore);

    const events = await c.kube.list<Ev>(resources.Event, { namespace: NS });
    const reasons = events.items.filter((e) => e.involvedObject?.name === ARTICLE).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['CreatedApplicationLoadBalancer', 'CreatedLoadBalancer', 'CreatedTargetGroup', 'CreatedListener', 'CreatedRule']));
  });

  it('a resync with nothing changed makes no mutating AWS call', async () => {
    const before = await op.awsCalls();
    await c.kube.patch(resources.Ingress, { name: ARTICLE, namespace: NS }, { metadata: { labels: { touched: String(Date.now()) } } });
    await c.kube.patch(ALB_RESOURCE, { name: ARTICLE, namespace: NS }, { metadata: { labels: { touched: String(Date.now()) } } });
    await waitFor('the touch to be reconciled', async () => {
      const now = await op.awsCalls();
      return (now['elbv2:DescribeLoadBalancers:success'] ?? 0) > (before['elbv2:DescribeLoadBalancers:success'] ?? 0);
    });
    await new Promise((r) => setTimeout(r, 1500));
    expect(mutatingDelta(before, await op.awsCalls())).toEqual({});
  });

  it('adding /v3 adds exactly one rule and one target group and changes nothing else', async () => {
    const before = await albOf(ARTICLE);
    const calls = await op.awsCalls();
    await putIngress(ingress(ARTICLE, [...ARTICLE_PATHS, { path: '/v3', service: 'kubernetes-bootcamp-v3' }]));
    await waitFor('three rules', async () => (await albOf(ARTICLE)).rules.length === 3, 60_000);
    await readyAlb(ARTICLE);
    const after = await albOf(ARTICLE);
    expect(after.lb.arn).toBe(before.lb.arn);
    expect(after.rules.slice(0, 2)).toEqual(before.rules);
    expect(after.rules[2]?.paths).toEqual(['/v3', '/v3/*']);
    expect(after.tgs.map((t) => t.arn)).toEqual(expect.arrayContaining(before.tgs.map((t) => t.arn)));
    expect(after.tgs).toHaveLength(3);
    const delta = mutatingDelta(calls, await op.awsCalls());
    // One rule, one target group with its three targets, and the node group opened on the new NodePort.
    expect(delta).toEqual({ 'elbv2:CreateRule:success': 1, 'elbv2:CreateTargetGroup:success': 1, 'elbv2:RegisterTargets:success': 1, 'ec2:AuthorizeSecurityGroupIngress:success': 1 });
  });

  it('bad input (listen-ports JSON, scheme, missing Service, unknown port name, target-type ip, ClusterIP backend) gives a Warning naming the field and Accepted=False; the ALB keeps serving', async () => {
    const good = ingress(ARTICLE, [...ARTICLE_PATHS, { path: '/v3', service: 'kubernetes-bootcamp-v3' }]);
    const before = await albOf(ARTICLE);
    const calls = await op.awsCalls();
    const cases: Array<{ needle: string; ing: V1Ingress }> = [
      { needle: ANNOTATIONS.listenPorts, ing: ingress(ARTICLE, ARTICLE_PATHS, { ...ARTICLE_ANNOTATIONS, [ANNOTATIONS.listenPorts]: '[{"HTTP": 18080' }) },
      { needle: ANNOTATIONS.scheme, ing: ingress(ARTICLE, ARTICLE_PATHS, { ...ARTICLE_ANNOTATIONS, [ANNOTATIONS.scheme]: 'public' }) },
      { needle: ANNOTATIONS.targetType, ing: ingress(ARTICLE, ARTICLE_PATHS, { ...ARTICLE_ANNOTATIONS, [ANNOTATIONS.targetType]: 'ip' }) },
      { needle: 'backend.service.name', ing: ingress(ARTICLE, [{ path: '/v1', service: 'no-such-service' }]) },
      { needle: 'backend.service.port.name', ing: ingress(ARTICLE, [{ path: '/v1', service: 'kubernetes-bootcamp-v1', port: { name: 'grpc' } }]) },
      { needle: 'ClusterIP', ing: ingress(ARTICLE, [{ path: '/v1', service: 'cluster-only' }]) },
    ];
    for (const k of cases) {
      await putIngress(k.ing);
      const ev = await warning(ARTICLE, k.needle);
      expect(ev.reason).toBe('InvalidIngress');
      await waitFor(`Accepted=False naming ${k.needle}`, async () => (await getAlb(ARTICLE))?.status?.conditions?.some((x) => x.type === 'Accepted' && x.status === 'False' && x.message.includes(k.needle)));
    }
    const after = await albOf(ARTICLE);
    expect(after.lb.arn).toBe(before.lb.arn);
    expect(after.rules).toEqual(before.rules);
    expect(mutatingDelta(calls, await op.awsCalls())).toEqual({});
    await putIngress(good);
    await waitFor('Accepted=True again', async () => (await getAlb(ARTICLE))?.status?.conditions?.some((x) => x.type === 'Accepted' && x.status === 'True'));
  });

  it('an IngressGroup: two members share one internal ALB (no scheme annotation, legacy class annotation), a broken third member is left out with a Warning, one leaving removes only its rule and target group', async () => {
    const group = (order: string, extra: Record<string, string> = {}) => ({ 'kubernetes.io/ingress.class': 'alb', [ANNOTATIONS.groupName]: 'shop', [ANNOTATIONS.groupOrder]: order, ...extra });
    await c.kube.create(resources.Ingress, ingress('shop-a', [{ path: '/a', service: 'kubernetes-bootcamp-v1' }], group('1'), undefined));
    await c.kube.create(resources.Ingress, ingress('shop-b', [{ path: '/b', service: 'kubernetes-bootcamp-v2' }], group('2'), undefined));
    await c.kube.create(resources.Ingress, ingress('shop-c', [{ path: '/c', service: 'kubernetes-bootcamp-v3' }], group('3', { [ANNOTATIONS.listenPorts]: 'not json' }), undefined));
    await waitFor('both members have the hostname', async () => (await hostnameOf('shop-a')) && (await hostnameOf('shop-a')) === (await hostnameOf('shop-b')), 90_000);
    const cr = await readyAlb('shop');
    expect(cr.metadata.ownerReferences?.map((o) => o.name).sort()).toEqual(['shop-a', 'shop-b', 'shop-c']);
    expect(cr.status?.ingresses?.find((m) => m.name === 'shop-c')).toMatchObject({ applied: false, reason: 'InvalidIngress' });
    expect(await hostnameOf('shop-c')).toBeUndefined();
    await warning('shop-c', ANNOTATIONS.listenPorts);
    const gauge = await op.metrics();
    expect(gauge).toMatch(/kube_iaas_ingress_group_members\{namespace="default",group="shop",state="applied"\} 2/);
    expect(gauge).toMatch(/kube_iaas_ingress_group_members\{namespace="default",group="shop",state="left_out"\} 1/);

    const { lb, tgs, rules } = await albOf('shop');
    expect(lb.scheme).toBe('internal');
    expect(lb.zones.map((z) => z.subnetId).sort()).toEqual(account.subnets.filter((s) => s.role === 'private').map((s) => s.id).sort());
    expect(rules.map((r) => r.paths)).toEqual([
      ['/a', '/a/*'],
      ['/b', '/b/*'],
    ]);
    expect(tgs).toHaveLength(2);
    const { sgs } = await ourAlbResources(c, CLUSTER, ownerIs('shop'));
    const sgIngress = (await sgRules(c, sgs[0]!.id)).filter((r) => !r.egress);
    expect(sgIngress.map((r) => [r.fromPort, r.cidrIpv4])).toEqual([[80, '192.168.192.0/22']]);

    const aRule = rules[0]!;
    await deleteIngress('shop-b');
    const after = await waitFor('only shop-a rule', async () => {
      const a = await albOf('shop');
      return a.rules.length === 1 && a.tgs.length === 1 ? a : undefined;
    });
    expect(after.lb.arn).toBe(lb.arn);
    expect(after.rules).toEqual([aRule]);
    expect(after.tgs[0]?.arn).toBe(aRule.targetGroupArns[0]);
    expect((await getAlb('shop'))?.metadata.ownerReferences?.map((o) => o.name).sort()).toEqual(['shop-a', 'shop-c']);

    await deleteIngress('shop-c');
    await deleteIngress('shop-a');
    await waitFor('the group CR is gone', async () => !(await getAlb('shop')));
    const left = await ourAlbResources(c, CLUSTER, ownerIs('shop'));
    expect([...left.lbs, ...left.tgs, ...left.sgs]).toEqual([]);
  });

  it('an IngressClass with spec.parameters gives its Ingresses cluster-wide defaults from a ConfigMap; a bad key is a Warning naming it and the ALB keeps serving', async () => {
    const cm = (data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'alb-public-defaults', namespace: NS }, data });
    if (await c.kube.get(resources.ConfigMap, 'alb-public-defaults', NS)) await c.kube.delete(resources.ConfigMap, { name: 'alb-public-defaults', namespace: NS });
    await c.kube.create(resources.ConfigMap, cm({ scheme: 'internet-facing', 'listen-ports': '[{"HTTP": 18081}]', 'inbound-cidrs': '203.0.113.0/24' }));
    if (!(await c.kube.get(resources.IngressClass, 'alb-public'))) {
      await c.kube.create(resources.IngressClass, {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'IngressClass',
        metadata: { name: 'alb-public' },
        spec: { controller: 'kube-iaas.dev/alb', parameters: { kind: 'ConfigMap', name: 'alb-public-defaults', namespace: NS, scope: 'Namespace' } },
      } as KubeObject);
    }
    // The Ingress sets only inbound-cidrs itself: scheme and listener come from the class.
    await c.kube.create(resources.Ingress, ingress('public', [{ path: '/p', service: 'kubernetes-bootcamp-v1' }], { [ANNOTATIONS.inboundCidrs]: '198.51.100.0/24' }, 'alb-public'));
    await waitFor('public has an address', () => hostnameOf('public'), 90_000);
    const { lb, listeners, sgs } = await albOf('public');
    expect(lb.scheme).toBe('internet-facing');
    expect(listeners.map((l) => l.Port)).toEqual([18081]);
    const cidrs = (await sgRules(c, sgs[0]!.id)).filter((r) => !r.egress).map((r) => r.cidrIpv4);
    expect(cidrs).toEqual(['198.51.100.0/24']);

    await c.kube.replace(resources.ConfigMap, { ...cm({ scheme: 'internet-facing', 'listen-port': '[{"HTTP": 18082}]' }), metadata: { ...cm({}).metadata, resourceVersion: (await c.kube.get<KubeObject>(resources.ConfigMap, 'alb-public-defaults', NS))?.metadata?.resourceVersion } } as KubeObject);
    // Any change of the Ingress reconciles its group again with the new defaults.
    await putIngress(ingress('public', [{ path: '/p', service: 'kubernetes-bootcamp-v1' }, { path: '/q', service: 'kubernetes-bootcamp-v2' }], { [ANNOTATIONS.inboundCidrs]: '198.51.100.0/24' }, 'alb-public'));
    await warning('public', 'unknown key "listen-port"');
    await waitFor('Accepted=False', async () => (await getAlb('public'))?.status?.conditions?.some((x) => x.type === 'Accepted' && x.status === 'False' && x.message?.includes('listen-port')));
    const still = await albOf('public');
    expect(still.lb.arn).toBe(lb.arn);
    expect(still.listeners.map((l) => l.Port)).toEqual([18081]);
    expect(still.rules).toHaveLength(1);

    await deleteIngress('public');
    await waitFor('public CR gone', async () => !(await getAlb('public')));
    await c.kube.delete(resources.IngressClass, { name: 'alb-public' });
    await c.kube.delete(resources.ConfigMap, { name: 'alb-public-defaults', namespace: NS });
  });

  it('a node joining through the ASG is registered in every target group, and deregistered when it terminates', async () => {
    const { tgs } = await albOf(ARTICLE);
    await c.asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: account.asgName, DesiredCapacity: 1 }));
    const newId = await waitFor('ASG instance', async () => {
      const g = (await c.asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [account.asgName] }))).AutoScalingGroups?.[0];
      return g?.Instances?.[0]?.InstanceId;
    });
    for (const tg of tgs) await waitFor(`new node registered in ${tg.name}`, async () => (await targetsOf(c, tg.arn)).some((t) => t.id === newId), 60_000);
    await c.asg.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: newId, ShouldDecrementDesiredCapacity: true }));
    for (const tg of tgs) await waitFor(`node deregistered from ${tg.name}`, async () => !(await targetsOf(c, tg.arn)).some((t) => t.id === newId), 60_000);
    for (const tg of tgs) expect((await targetsOf(c, tg.arn)).map((t) => t.id).sort()).toEqual([...account.instanceIds].sort());
  });

  it('an orphaned target group is collected by the sweep', async () => {
    const tags = ownedTags(CLUSTER, { kind: 'ApplicationLoadBalancer', namespace: NS, name: 'ghost', uid: '00000000-dead-beef-0000-000000000000' });
    const out = await c.elbv2.send(new CreateTargetGroupCommand({ Name: 'k8s-default-ghost-alb-orphan', Protocol: 'HTTP', Port: 30998, VpcId: account.vpcId, TargetType: 'instance', Tags: toElbTags(tags) }));
    expect(out.TargetGroups?.[0]?.TargetGroupArn).toBeDefined();
    await waitFor('orphan collected', async () => (await ourAlbResources(c, CLUSTER, ownerIs('ghost'))).tgs.length === 0, 30_000);
  });

  it('killing the operator (SIGKILL) right after CreateLoadBalancer returns and starting it again leaves exactly one ALB, with the rest completed', async () => {
    const name = 'crash';
    await c.kube.create(resources.Ingress, ingress(name, [{ path: '/crash', service: 'kubernetes-bootcamp-v1' }], { [ANNOTATIONS.listenPorts]: '[{"HTTP": 18081}]' }));
    // The operator logs each action as it starts it: the first one after CreateLoadBalancer has returned is
    // the first target group's create. Kill the process the moment that line appears.
    await waitFor('CreateLoadBalancer done', () => op.output.some((l) => l.includes('"op":"createTargetGroup"') && l.includes(`"owner":"${NS}/${name}"`)), 60_000, 5);
    await op.stop('SIGKILL');
    const midway = await ourAlbResources(c, CLUSTER, ownerIs(name));
    expect(midway.lbs).toHaveLength(1);
    console.log(`killed with ${midway.lbs.length} ALB, ${midway.tgs.length} target group(s), ${midway.sgs.length} security group(s)`);
    op = await OperatorProcess.start();
    await waitFor('hostname after restart', () => hostnameOf(name), 90_000);
    await readyAlb(name);
    const { lb, tgs, sgs, listeners, rules } = await albOf(name);
    expect(lb.arn).toBe(midway.lbs[0]?.arn);
    expect(tgs).toHaveLength(1);
    expect(sgs).toHaveLength(1);
    expect(listeners).toHaveLength(1);
    expect(rules).toHaveLength(1);
    await deleteIngress(name);
  });

  it('an ApplicationLoadBalancer applied by hand is reconciled the same way; a subnet that does not exist is a Synced=False condition naming spec.subnets and no AWS change', async () => {
    const name = 'by-hand';
    const spec = {
      scheme: 'internal',
      subnets: ['subnet-0000000000doesnotexist', 'subnet-0000000001doesnotexist'],
      listeners: [{ port: 9000 }],
      targetGroups: [{ name: 'web', targetPort: 30901 }],
      rules: [{ listenerPort: 9000, priority: 5, paths: ['/x'], action: { type: 'forward', forward: { targetGroups: [{ name: 'web' }] } } }],
    };
    const calls = await op.awsCalls();
    await c.kube.create(ALB_RESOURCE, { apiVersion: 'elb.kube-iaas.dev/v1alpha1', kind: 'ApplicationLoadBalancer', metadata: { name, namespace: NS }, spec } as KubeObject);
    const bad = await waitFor('Synced=False naming spec.subnets', async () => (await getAlb(name))?.status?.conditions?.find((x) => x.type === 'Synced' && x.status === 'False'));
    expect(bad.message).toContain('spec.subnets');
    expect(mutatingDelta(calls, await op.awsCalls())).toEqual({});
    expect((await ourAlbResources(c, CLUSTER, ownerIs(name))).lbs).toEqual([]);

    await c.kube.patch(ALB_RESOURCE, { name, namespace: NS }, { spec: { subnets: account.subnets.filter((s) => s.role === 'private').map((s) => s.id) } });
    const cr = await readyAlb(name);
    const { lb, tgs, rules } = await albOf(name);
    expect([lb.arn, lb.scheme]).toEqual([cr.status?.loadBalancerArn, 'internal']);
    expect(rules.map((r) => [r.priority, r.paths])).toEqual([[5, ['/x']]]);
    expect((await targetsOf(c, tgs[0]!.arn)).map((t) => t.port)).toEqual([30901, 30901, 30901]);
    await c.kube.delete(ALB_RESOURCE, { name, namespace: NS });
    await waitFor('CR gone', async () => !(await getAlb(name)), 60_000);
    const left = await ourAlbResources(c, CLUSTER, ownerIs(name));
    expect([...left.lbs, ...left.tgs, ...left.sgs]).toEqual([]);
  });

  it('deleting the Ingress removes everything it made (ALB, listener, rules, target groups, security group, node-group rules); the baseline group is untouched', async () => {
    await deleteIngress(ARTICLE);
    await waitFor('CR gone', async () => !(await getAlb(ARTICLE)));
    const left = await ourAlbResources(c, CLUSTER);
    expect([...left.lbs, ...left.tgs, ...left.sgs]).toEqual([]);
    const rules = (await sourceGroupRules(c, account.clusterSecurityGroupId)).filter((r) => parseOwnerDescription(r.description)?.kind === 'ApplicationLoadBalancer');
    expect(rules).toEqual([]);
    expect(JSON.stringify(await sgRules(c, account.baselineSecurityGroupId))).toBe(baselineBefore);
    expect(left.lbs.filter((l) => l.tags[OWNER_KIND_TAG] === 'ApplicationLoadBalancer')).toEqual([]);
  });
});
