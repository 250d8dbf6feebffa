// A deletion AWS refuses as "in use" must not hold the ALB controller's worker: the key is requeued with
// backoff and other ApplicationLoadBalancers are served meanwhile. The target group of a deleted Ingress
// is kept in use by a listener of a load balancer that is not ours (made through the ELBv2 API), so moto
// answers ResourceInUse to its DeleteTargetGroup until that listener goes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Ingress, V1Service } from '@kubernetes/client-node';
import { CreateListenerCommand, CreateLoadBalancerCommand, DeleteListenerCommand, DeleteLoadBalancerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { ApplicationLoadBalancer } from '@kube-iaas/crds';
import { OWNER_TAG, type Tags } from '@kube-iaas/core/tags';
import { resources } from '@kube-iaas/core/runtime';
import { describeTargetGroups } from '@kube-iaas/elbv2';
import { readState } from '@kube-iaas/testbed';
import { testbedEnv } from '@kube-iaas/testbed/testing';
import { ANNOTATIONS } from '../../src/constants.ts';
import { ALB_RESOURCE } from '../../src/controllers/common.ts';
import { OperatorProcess, clients, ourAlbResources, waitFor, type Clients } from './harness.ts';

const CLUSTER = testbedEnv().clusterName;
const account = readState()?.account;
if (!account) throw new Error('testbed account not seeded');
const NS = 'default';
const HELD = 'in-use-held';
const OTHER = 'in-use-other';
const SERVICE = 'in-use-svc';
const ownerIs = (name: string) => (t: Tags) => t[OWNER_TAG] === `${NS}/${name}`;

let c: Clients;
let op: OperatorProcess | undefined;
let foreign: { lb?: string; listener?: string } = {};

const getAlb = (name: string) => c.kube.get<ApplicationLoadBalancer>(ALB_RESOURCE, name, NS);
const ready = (cr: ApplicationLoadBalancer | undefined) => !!cr?.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') && cr.status.observedGeneration === cr.metadata.generation;

function ingress(name: string, path: string): V1Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: NS, annotations: { [ANNOTATIONS.scheme]: 'internal', [ANNOTATIONS.listenPorts]: '[{"HTTP": 18081}]' } },
    spec: { ingressClassName: 'alb', rules: [{ http: { paths: [{ path, pathType: 'Prefix', backend: { service: { name: SERVICE, port: { number: 8080 } } } }] } }] },
  };
}

async function dropForeign(): Promise<void> {
  if (foreign.listener) await c.elbv2.send(new DeleteListenerCommand({ ListenerArn: foreign.listener })).catch(() => undefined);
  if (foreign.lb) await c.elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: foreign.lb })).catch(() => undefined);
  foreign = {};
}

async function deleteIngress(name: string): Promise<void> {
  await c.kube.delete(resources.Ingress, { name, namespace: NS }).catch(() => undefined);
}

beforeAll(async () => {
  c = clients();
  for (const n of [HELD, OTHER]) await deleteIngress(n);
  if (!(await c.kube.get(resources.Service, SERVICE, NS))) {
    const svc: V1Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: SERVICE, namespace: NS }, spec: { type: 'NodePort', selector: { app: SERVICE }, ports: [{ port: 8080, targetPort: 8080, protocol: 'TCP' }] } };
    await c.kube.create(resources.Service, svc);
  }
  // One worker: a reconcile that waited inline would hold every other ApplicationLoadBalancer.
  op = await OperatorProcess.start(['--workers=1']);
}, 120_000);

afterAll(async () => {
  await dropForeign();
  for (const n of [HELD, OTHER]) await deleteIngress(n);
  await waitFor('test ALBs gone', async () => !(await getAlb(HELD)) && !(await getAlb(OTHER)), 90_000, 500).catch(() => undefined);
  await op?.stop();
  await c.kube.delete(resources.Service, { name: SERVICE, namespace: NS }).catch(() => undefined);
}, 180_000);

describe('ingress-operator: a delete refused as in use is requeued, not waited for', () => {
  it('while a deleted Ingress\'s target group is held by a foreign listener, another Ingress gets its ALB at once; the held one finishes once the listener goes', async () => {
    await c.kube.create(resources.Ingress, ingress(HELD, '/held'));
    await waitFor(`${HELD} Ready`, async () => ready(await getAlb(HELD)), 90_000, 500);
    const tg = (await ourAlbResources(c, CLUSTER, ownerIs(HELD))).tgs[0]!;
    const subnets = account.subnets.filter((s) => s.role === 'private').map((s) => s.id);
    foreign.lb = (await c.elbv2.send(new CreateLoadBalancerCommand({ Name: 'it-foreign-holder', Type: 'application', Scheme: 'internal', Subnets: subnets }))).LoadBalancers?.[0]?.LoadBalancerArn;
    foreign.listener = (await c.elbv2.send(new CreateListenerCommand({ LoadBalancerArn: foreign.lb, Port: 9090, Protocol: 'HTTP', DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.arn }] }))).Listeners?.[0]?.ListenerArn;
    expect(foreign.listener).toBeTruthy();

    await deleteIngress(HELD);
    // The held cleanup is under way (its ALB is gone, its target group refused) before the other arrives.
    await waitFor(`${HELD}'s load balancer deleted`, async () => (await ourAlbResources(c, CLUSTER, ownerIs(HELD))).lbs.length === 0, 60_000, 500);
    const t0 = Date.now();
    await c.kube.create(resources.Ingress, ingress(OTHER, '/other'));
    await waitFor(`${OTHER} Ready while ${HELD}'s target group is in use`, async () => ready(await getAlb(OTHER)), 25_000, 250);
    const servedMs = Date.now() - t0;

    // Nothing of the held one was given up: its CR keeps the finalizer, its target group is still there.
    expect(await getAlb(HELD)).toBeDefined();
    expect((await describeTargetGroups(c.elbv2, { arns: [tg.arn] })).map((t) => t.arn)).toEqual([tg.arn]);

    await dropForeign();
    await waitFor(`${HELD} gone once its target group is free`, async () => !(await getAlb(HELD)), 90_000, 500);
    expect((await ourAlbResources(c, CLUSTER, ownerIs(HELD))).tgs).toEqual([]);
    console.log(`other ALB Ready ${servedMs} ms after its Ingress, with the held deletion being retried`);
  });
});
