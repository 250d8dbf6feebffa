// Issue #22 ("Safety between tenants"), the ingress-operator's defects, on the testbed with the operator as
// its own process: 7 (tag values over AWS's 256 characters for a 253-character Ingress name), 10 (a dead
// duplicate rule after a group member breaks and is fixed) and 11 (a bad certificate-arn reported under
// listen-ports; several bad annotations reported together).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Ingress, V1Service } from '@kubernetes/client-node';
import type { ApplicationLoadBalancer } from '@kube-iaas/crds';
import { matchesOwner, type OwnerRef, type Tags } from '@kube-iaas/core/tags';
import { resources, type KubeObject } from '@kube-iaas/core/runtime';
import { testbedEnv } from '@kube-iaas/testbed/testing';
import { ANNOTATIONS } from '../../src/constants.ts';
import { OperatorProcess, clients, listenersOf, mutatingDelta, ourAlbResources, rulesOf, ingressObjects, waitFor, type Clients } from './harness.ts';

const CLUSTER = testbedEnv().clusterName;
const NS = 'default';
const SVC_A = 'tenant-web-a';
const SVC_B = 'tenant-web-b';
/** A valid Ingress name of the maximum length (253), in DNS labels of at most 63. */
const LONG = ['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(61)].join('.');

type Ev = KubeObject & { reason?: string; type?: string; message?: string; involvedObject?: { kind?: string; name?: string; uid?: string } };

let c: Clients;
let op: OperatorProcess;

function service(name: string): V1Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec: { type: 'NodePort', selector: { app: name }, ports: [{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' }] } };
}

function ingress(name: string, paths: Array<{ path: string; service: string }>, annotations: Record<string, string>): V1Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: NS, annotations },
    spec: { ingressClassName: 'alb', rules: [{ http: { paths: paths.map((p) => ({ path: p.path, pathType: 'Prefix', backend: { service: { name: p.service, port: { number: 8080 } } } })) } }] },
  };
}

const { getIng, getAlb, putIngress, deleteIngress, readyAlb } = ingressObjects(() => c, NS);

/** A Warning on this Ingress (by UID: Events of an earlier Ingress of the same name do not count). */
async function warningOn(name: string, needle: string): Promise<Ev> {
  const uid = (await getIng(name))?.metadata?.uid;
  return waitFor(`Warning on Ingress ${name} with ${needle}`, async () => {
    const evs = await c.kube.list<Ev>(resources.Event, { namespace: NS });
    return evs.items.find((e) => e.type === 'Warning' && e.involvedObject?.kind === 'Ingress' && e.involvedObject.uid === uid && e.message?.includes(needle));
  });
}

const ownerOf = (cr: ApplicationLoadBalancer): OwnerRef => ({ kind: 'ApplicationLoadBalancer', namespace: NS, name: cr.metadata.name ?? '', uid: cr.metadata.uid ?? '' });

beforeAll(async () => {
  c = clients();
  op = await OperatorProcess.start();
  for (const n of [LONG, 'shared-a', 'shared-b', 'certs']) await deleteIngress(n);
  for (const s of [SVC_A, SVC_B]) if (!(await c.kube.get(resources.Service, s, NS))) await c.kube.create(resources.Service, service(s));
}, 180_000);

afterAll(async () => {
  for (const n of [LONG, 'shared-a', 'shared-b', 'certs']) await deleteIngress(n).catch(() => undefined);
  await op?.stop();
  for (const s of [SVC_A, SVC_B]) await c.kube.delete(resources.Service, { name: s, namespace: NS }).catch(() => undefined);
}, 180_000);

describe('issue #22 on the testbed: ingress-operator', () => {
  it('an Ingress with a 253-character name: every tag key and value on its ALB, target group and security group is within AWS limits, and the operator still finds and deletes them', async () => {
    await putIngress(ingress(LONG, [{ path: '/app', service: SVC_A }], { [ANNOTATIONS.scheme]: 'internal', [ANNOTATIONS.listenPorts]: '[{"HTTP": 80}]', [ANNOTATIONS.tags]: 'team=a' }));
    const cr = await readyAlb(LONG);
    const mine = (t: Tags) => matchesOwner(CLUSTER, ownerOf(cr), { byUid: true })(t);
    const { lbs, tgs, sgs } = await ourAlbResources(c, CLUSTER, mine);
    expect([lbs.length, tgs.length, sgs.length]).toEqual([1, 1, 1]);
    const all = [...lbs, ...tgs, ...sgs].map((r) => r.tags);
    for (const tags of all) {
      for (const [k, v] of Object.entries(tags)) {
        expect(k.length, `key ${k}`).toBeLessThanOrEqual(128);
        expect(v.length, `value of ${k}`).toBeLessThanOrEqual(256);
      }
      expect(tags['kube-iaas.dev/owner-uid']).toBe(cr.metadata.uid);
      expect(tags.team).toBe('a');
    }
    expect(lbs[0]!.tags['kube-iaas.dev/ingress']).toHaveLength(256);
    const listeners = await listenersOf(c, lbs[0]!.arn);
    expect((await rulesOf(c, listeners[0]!.ListenerArn!)).map((r) => r.paths)).toEqual([['/app', '/app/*']]);

    // a resync finds them by these tags: no duplicate, no change
    const calls = await op.awsCalls();
    await c.kube.patch(resources.Ingress, { name: LONG, namespace: NS }, { metadata: { annotations: { 'tenant.example/touch': '1' } } });
    await new Promise((r) => setTimeout(r, 3000));
    expect(mutatingDelta(calls, await op.awsCalls())).toEqual({});
    expect((await ourAlbResources(c, CLUSTER, mine)).lbs).toHaveLength(1);

    await deleteIngress(LONG);
    await waitFor('ALB, target group and security group deleted', async () => {
      const left = await ourAlbResources(c, CLUSTER, mine);
      return left.lbs.length + left.tgs.length + left.sgs.length === 0;
    }, 90_000);
  });

  it('two members with the same path and group.order: after the winning one breaks and is fixed, the ALB has one rule for the path (no dead duplicate behind it)', async () => {
    const group = (extra: Record<string, string> = {}) => ({ [ANNOTATIONS.groupName]: 'tenants', [ANNOTATIONS.listenPorts]: '[{"HTTP": 80}]', ...extra });
    await putIngress(ingress('shared-a', [{ path: '/shared', service: SVC_A }], group()));
    await putIngress(ingress('shared-b', [{ path: '/shared', service: SVC_B }], group()));
    await warningOn('shared-b', 'the same host and path as a rule of Ingress shared-a');
    const cr = await readyAlb('tenants');
    const mine = (t: Tags) => matchesOwner(CLUSTER, ownerOf(cr), { byUid: true })(t);
    const sharedRules = async () => {
      const { lbs, tgs } = await ourAlbResources(c, CLUSTER, mine);
      const l = lbs[0] ? await listenersOf(c, lbs[0].arn) : [];
      const rules = l[0]?.ListenerArn ? await rulesOf(c, l[0].ListenerArn) : [];
      const tgService = new Map(tgs.map((t) => [t.arn, t.tags['kubernetes.io/service-name']]));
      return rules.filter((r) => r.paths.includes('/shared')).map((r) => ({ priority: r.priority, service: r.targetGroupArns.map((a) => tgService.get(a)) }));
    };
    const first = await waitFor('one /shared rule', async () => {
      const r = await sharedRules();
      return r.length === 1 ? r : undefined;
    }, 60_000);
    expect(first[0]?.service).toEqual([`${NS}/${SVC_A}`]);

    // shared-a breaks (bad scheme): it keeps its rule
    await putIngress(ingress('shared-a', [{ path: '/shared', service: SVC_A }], group({ [ANNOTATIONS.scheme]: 'public' })));
    await warningOn('shared-a', ANNOTATIONS.scheme);
    await new Promise((r) => setTimeout(r, 3000));
    // ... and is fixed
    await putIngress(ingress('shared-a', [{ path: '/shared', service: SVC_A }], group()));
    await waitFor('shared-a applied again', async () => (await getAlb('tenants'))?.status?.ingresses?.find((m) => m.name === 'shared-a')?.applied === true, 60_000);
    await new Promise((r) => setTimeout(r, 3000));
    expect(await sharedRules()).toEqual(first);
  });

  it('a garbage certificate-arn is reported under certificate-arn; several bad annotations are all reported; nothing on AWS changes', async () => {
    await putIngress(ingress('certs', [{ path: '/c', service: SVC_A }], { [ANNOTATIONS.listenPorts]: '[{"HTTP": 80}]' }));
    const cr = await readyAlb('certs');
    const mine = (t: Tags) => matchesOwner(CLUSTER, ownerOf(cr), { byUid: true })(t);
    const before = await ourAlbResources(c, CLUSTER, mine);
    const calls = await op.awsCalls();

    await putIngress(ingress('certs', [{ path: '/c', service: SVC_A }], { [ANNOTATIONS.listenPorts]: '[{"HTTPS": 443}]', [ANNOTATIONS.certificateArn]: 'garbage' }));
    const ev = await warningOn('certs', ANNOTATIONS.certificateArn);
    expect(ev.message).toContain('"garbage" is not a certificate ARN');
    expect(ev.message).not.toContain(ANNOTATIONS.listenPorts);
    await waitFor('Accepted=False naming certificate-arn', async () => (await getAlb('certs'))?.status?.conditions?.some((x) => x.type === 'Accepted' && x.status === 'False' && x.message.includes(ANNOTATIONS.certificateArn)));

    await putIngress(
      ingress('certs', [{ path: '/c', service: SVC_A }], {
        [ANNOTATIONS.listenPorts]: '[{"HTTPS": 443}]',
        [ANNOTATIONS.certificateArn]: 'garbage',
        [ANNOTATIONS.scheme]: 'public',
        [ANNOTATIONS.inboundCidrs]: '10.0.0.0/99',
      }),
    );
    const all = await warningOn('certs', ANNOTATIONS.inboundCidrs);
    for (const a of [ANNOTATIONS.certificateArn, ANNOTATIONS.scheme, ANNOTATIONS.inboundCidrs]) expect(all.message).toContain(`${a}:`);
    expect(all.message).not.toContain(`${ANNOTATIONS.listenPorts}:`);

    expect(mutatingDelta(calls, await op.awsCalls())).toEqual({});
    const after = await ourAlbResources(c, CLUSTER, mine);
    expect(after.lbs.map((l) => l.arn)).toEqual(before.lbs.map((l) => l.arn));
  });
});
