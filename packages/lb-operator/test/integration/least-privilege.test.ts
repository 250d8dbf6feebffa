// The operator with one permission less than its generated role or policy: the missing permission is
// reported where a user looks (condition, Event, log), and nothing else breaks or is left half-made.
import { afterEach, describe, expect, it } from 'vitest';
import type { V1Service } from '@kubernetes/client-node';
import type { NetworkLoadBalancer } from '@kube-iaas/crds';
import { OWNER_KIND_TAG, OWNER_TAG, type Tags } from '@kube-iaas/core/tags';
import { describeSecurityGroups } from '@kube-iaas/core/aws';
import { resources, type KubeObject } from '@kube-iaas/core/runtime';
import { restrictedIdentityEnv, testbedEnv, useIdentity } from '@kube-iaas/testbed/testing';
import { ANNOTATIONS, NLB_RESOURCE } from '../../src/constants.ts';
import { OperatorProcess, clients, ourElbResources, waitFor } from './harness.ts';

const CLUSTER = testbedEnv().clusterName;
const NS = 'default';
const c = clients();
type Ev = KubeObject & { message?: string; involvedObject?: { kind?: string; name?: string } };

const service = (name: string): V1Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: NS, annotations: { [ANNOTATIONS.type]: 'nlb' } },
  spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' }] },
});
const ownedBy = (name: string) => (t: Tags) => t[OWNER_KIND_TAG] === 'NetworkLoadBalancer' && t[OWNER_TAG] === `${NS}/${name}`;

let op: OperatorProcess | undefined;
const made: string[] = [];

afterEach(async () => {
  // The operator with its full identity cleans up after the restricted one.
  await op?.stop();
  useIdentity('lb-operator', undefined);
  op = await OperatorProcess.start();
  for (const n of made.splice(0)) {
    await c.kube.delete(resources.Service, { name: n, namespace: NS }).catch(() => undefined);
    await waitFor(`Service ${n} gone`, async () => !(await c.kube.get(resources.Service, n, NS)), 90_000);
  }
  await op.stop();
  op = undefined;
});

describe('lb-operator with one permission less', () => {
  it('without ec2:CreateSecurityGroup: AccessDenied naming the action on the NetworkLoadBalancer (condition + Event); no load balancer, target group or group is left', async () => {
    useIdentity('lb-operator', await restrictedIdentityEnv('lb-operator', { dropAction: 'ec2:CreateSecurityGroup' }));
    op = await OperatorProcess.start();
    const name = 'lp-no-create-sg';
    made.push(name);
    await c.kube.create(resources.Service, service(name));
    const cr = await waitFor('a condition naming the missing action', async () => {
      const x = await c.kube.get<NetworkLoadBalancer>(NLB_RESOURCE, name, NS);
      return x?.status?.conditions?.some((k) => k.status === 'False' && /ec2:CreateSecurityGroup/.test(k.message ?? '')) ? x : undefined;
    }, 90_000);
    expect(cr.status?.conditions?.find((k) => /ec2:CreateSecurityGroup/.test(k.message ?? ''))?.message).toMatch(/AccessDenied|not authorized/);
    const events = (await c.kube.list<Ev>(resources.Event, { namespace: NS })).items.filter((e) => e.involvedObject?.name === name);
    expect(events.map((e) => e.message).join('\n')).toContain('ec2:CreateSecurityGroup');
    const { lbs, tgs } = await ourElbResources(c, CLUSTER, ownedBy(name));
    expect([lbs.length, tgs.length]).toEqual([0, 0]);
    expect((await describeSecurityGroups(c.ec2, {})).filter((g) => g.tags[OWNER_TAG] === `${NS}/${name}`)).toEqual([]);
  });

  it('without patch on services/status: the 403 is in its log naming the resource, the NLB is still made, and the Service never gets a hostname', async () => {
    useIdentity('lb-operator', await restrictedIdentityEnv('lb-operator', { dropRule: { resource: 'services/status', verb: 'patch' } }));
    op = await OperatorProcess.start();
    const name = 'lp-no-status';
    made.push(name);
    await c.kube.create(resources.Service, service(name));
    const running = op;
    await waitFor('the 403 reported', () => running.output.some((l) => /403/.test(l) && /services/.test(l) && /status/.test(l)), 90_000);
    await waitFor('the NetworkLoadBalancer Ready', async () => (await c.kube.get<NetworkLoadBalancer>(NLB_RESOURCE, name, NS))?.status?.conditions?.some((k) => k.type === 'Ready' && k.status === 'True'), 90_000);
    expect((await c.kube.get<V1Service>(resources.Service, name, NS))?.status?.loadBalancer?.ingress ?? []).toEqual([]);
  });
});
