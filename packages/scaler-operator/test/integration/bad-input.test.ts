import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '@kube-iaas/core/runtime';
import type { NodeGroup } from '@kube-iaas/crds';
import type { ScalerOperator } from '../../src/operator.ts';
import {
  afterRuns,
  asgOf,
  autoscalerDiscoveryTags,
  clients,
  createNamespace,
  createTestAsg,
  deleteNamespace,
  deleteTestAsg,
  deployment,
  DEPLOYMENT,
  EVENT,
  eventsOf,
  NEVER_JOIN_TAG,
  NG,
  podsOf,
  resetTestbedAsg,
  startOperator,
  TESTBED_ASG,
  waitFor,
} from './helpers.ts';

const NS = 'scaler-bad';
const FOREIGN = 'scaler-test-foreign';
const BADTAG = 'scaler-test-badtag';
const GHOST = 'scaler-test-ghost';
const { kube, asg, ec2 } = clients();
const cluster = 'int32bit-kubernetes';
let op: ScalerOperator;

const condition = (ng: NodeGroup | undefined, type: string) => ng?.status?.conditions?.find((c) => c.type === type);

async function warningsFor(name: string): Promise<string[]> {
  const list = await kube.list<KubeObject & { reason?: string; message?: string; involvedObject?: { name?: string; kind?: string } }>(EVENT, { namespace: 'default' });
  return list.items.filter((e) => e.involvedObject?.kind === 'NodeGroup' && e.involvedObject.name === name).map((e) => `${e.reason}: ${e.message}`);
}

describe('bad input and failed scale-ups on the testbed', () => {
  beforeAll(async () => {
    await resetTestbedAsg(asg, kube);
    for (const n of [FOREIGN, BADTAG, GHOST]) await deleteTestAsg(asg, ec2, kube, n);
    await kube.delete(NG, { name: 'missing-asg' }).catch(() => undefined);
    // no cluster tag at all, no discovery tags
    await createTestAsg(asg, ec2, { name: FOREIGN, instanceType: 'c5.large', zones: 'a', instanceTags: {} });
    // discovered, with a malformed taint tag
    await createTestAsg(asg, ec2, { name: BADTAG, instanceType: 'c5.large', zones: 'a', tags: { ...autoscalerDiscoveryTags(cluster), 'k8s.io/cluster-autoscaler/node-template/taint/dedicated': 'oops' } });
    // discovered; the node simulator never registers its instances (a bootstrap that fails)
    await createTestAsg(asg, ec2, { name: GHOST, instanceType: 'c5.large', zones: 'a', tags: { ...autoscalerDiscoveryTags(cluster), [NEVER_JOIN_TAG]: 'true' } });
    await createNamespace(kube, NS);
    op = await startOperator(['--no-scale-down-enabled', '--provision-timeout=4s', '--scale-up-backoff=5m', '--expander=priority']);
    for (const n of [TESTBED_ASG, GHOST]) await waitFor(`NodeGroup ${n}`, async () => (await kube.get<NodeGroup>(NG, n))?.status?.nodeTemplate);
  });
  afterAll(async () => {
    await op?.stop();
    await deleteNamespace(kube, NS);
    for (const n of [FOREIGN, BADTAG, GHOST]) await deleteTestAsg(asg, ec2, kube, n);
    await kube.delete(NG, { name: 'missing-asg' }).catch(() => undefined);
    await kube.delete(NG, { name: 'inverted' }).catch(() => undefined);
    await resetTestbedAsg(asg, kube);
  });

  it('the API server refuses a NodeGroup with minSize > maxSize, naming the field', async () => {
    const err = await kube.create(NG, { apiVersion: NG.apiVersion, kind: 'NodeGroup', metadata: { name: 'inverted' }, spec: { asgName: TESTBED_ASG, minSize: 5, maxSize: 2 } } as never).catch((e: unknown) => e);
    expect(String(err)).toMatch(/spec.minSize/);
    expect(String(err)).toMatch(/must not exceed spec.maxSize/);
  });

  it('a NodeGroup naming a missing ASG, or one not tagged for this cluster, gets a condition and an Event; a malformed template tag is named', async () => {
    await kube.create(NG, { apiVersion: NG.apiVersion, kind: 'NodeGroup', metadata: { name: 'missing-asg' }, spec: { asgName: 'no-such-asg' } } as never);
    await kube.create(NG, { apiVersion: NG.apiVersion, kind: 'NodeGroup', metadata: { name: FOREIGN }, spec: { asgName: FOREIGN } } as never);
    const missing = await waitFor('missing condition', async () => {
      const ng = await kube.get<NodeGroup>(NG, 'missing-asg');
      return condition(ng, 'Ready')?.reason === 'AsgNotFound' ? ng : undefined;
    });
    expect(condition(missing, 'Ready')).toMatchObject({ status: 'False', message: 'Auto Scaling group no-such-asg does not exist' });
    const foreign = await waitFor('foreign condition', async () => {
      const ng = await kube.get<NodeGroup>(NG, FOREIGN);
      return condition(ng, 'Ready')?.reason === 'NotOwned' ? ng : undefined;
    });
    expect(condition(foreign, 'Ready')?.message).toMatch(/missing tag kubernetes.io\/cluster\/int32bit-kubernetes/);
    const bad = await waitFor('bad tag condition', async () => {
      const ng = await kube.get<NodeGroup>(NG, BADTAG);
      return condition(ng, 'Ready')?.reason === 'TemplateInvalid' ? ng : undefined;
    });
    expect(condition(bad, 'Ready')?.message).toContain('k8s.io/cluster-autoscaler/node-template/taint/dedicated');
    await waitFor('events', async () => (await warningsFor('missing-asg')).some((m) => m.startsWith('InvalidNodeGroup')) && (await warningsFor(FOREIGN)).some((m) => m.startsWith('InvalidNodeGroup')));
    expect((await asgOf(asg, FOREIGN)).DesiredCapacity).toBe(0);
  });

  it('a pod no group can fit gets NotTriggerScaleUp, while other pods keep scaling; nodes that never join back the group off and the pods move to another group', async () => {
    // the ghost group is preferred (priority expander), but its instances never become Nodes
    await kube.patch(NG, { name: GHOST }, { spec: { priority: 10 } });
    await waitFor('priority seen', async () => (await kube.get<NodeGroup>(NG, GHOST))?.metadata?.generation === 2);
    await afterRuns(1);
    await kube.create(DEPLOYMENT, deployment(NS, 'huge', 1, '64', '1Gi'));
    await kube.create(DEPLOYMENT, deployment(NS, 'web', 10, '900m', '256Mi'));

    const huge = await waitFor('NotTriggerScaleUp for the huge pod', async () => {
      const e = (await eventsOf(kube, NS, 'NotTriggerScaleUp')).filter((x) => x.involvedObject?.name?.startsWith('huge'));
      return e[0];
    }, 30_000);
    expect(huge.message).toMatch(new RegExp(`${TESTBED_ASG}: insufficient cpu \\(pod requests 64, a new node has 1900m allocatable\\)`));
    expect(huge.message).toMatch(/scaler-test-badtag: group scaler-test-badtag: ASG tag k8s.io\/cluster-autoscaler\/node-template\/taint\/dedicated/);

    // 10 × 900m: 8 fit on the three nodes, 2 need one c5.large; the ghost group gets it first
    await waitFor('ghost asked for a node', async () => (await asgOf(asg, GHOST)).DesiredCapacity === 1, 30_000);
    const ghost = await waitFor('ghost backs off', async () => {
      const ng = await kube.get<NodeGroup>(NG, GHOST);
      return condition(ng, 'Backoff')?.status === 'True' ? ng : undefined;
    }, 30_000);
    expect(ghost.status?.backoffReason).toMatch(/nodes did not join within 4s/);
    expect(ghost.status?.backoffUntil).toBeTruthy();
    await waitFor('web pods running via the testbed group', async () => {
      const pods = await podsOf(kube, NS, 'web');
      return pods.length === 10 && pods.every((p) => p.status?.phase === 'Running');
    }, 60_000);
    expect((await asgOf(asg, TESTBED_ASG)).DesiredCapacity).toBe(1);
    await waitFor('ghost gave its capacity back', async () => (await asgOf(asg, GHOST)).DesiredCapacity === 0, 20_000);
    expect((await warningsFor(GHOST)).some((m) => m.startsWith('ScaleUpBackoff'))).toBe(true);
  });
});
