import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeGroup } from '@kube-iaas/crds';
import type { V1Node as Node } from '@kubernetes/client-node';
import type { ScalerOperator } from '../../src/operator.ts';
import {
  asgOf,
  autoscalerDiscoveryTags,
  clients,
  createNamespace,
  createTestAsg,
  deleteNamespace,
  deleteTestAsg,
  deployment,
  DEPLOYMENT,
  eventsOf,
  NG,
  NODE,
  nodeTemplateTags,
  podsOf,
  resetTestbedAsg,
  startOperator,
  TESTBED_ASG,
  waitFor,
} from './helpers.ts';

const NS = 'scaler-groups';
const XL = 'scaler-test-xlarge';
const SPECIAL = 'scaler-test-special';
const { kube, asg, ec2 } = clients();
const cluster = 'int32bit-kubernetes';
let op: ScalerOperator;

const desired = async (name: string) => (await asgOf(asg, name)).DesiredCapacity ?? -1;

describe('two groups and scale-from-zero on the testbed', () => {
  beforeAll(async () => {
    await resetTestbedAsg(asg, kube);
    for (const n of [XL, SPECIAL]) await deleteTestAsg(asg, ec2, kube, n);
    await createTestAsg(asg, ec2, { name: XL, instanceType: 'c5.xlarge', zones: 'both', tags: autoscalerDiscoveryTags(cluster) });
    await createTestAsg(asg, ec2, {
      name: SPECIAL,
      instanceType: 'c5.large',
      zones: 'a',
      tags: { ...autoscalerDiscoveryTags(cluster), ...nodeTemplateTags({ labels: { pool: 'special' }, taints: [{ key: 'dedicated', value: 'special', effect: 'NoSchedule' }] }) },
    });
    await createNamespace(kube, NS);
    op = await startOperator(['--no-scale-down-enabled', '--scan-interval=2s']);
    for (const n of [TESTBED_ASG, XL, SPECIAL]) await waitFor(`NodeGroup ${n}`, async () => (await kube.get<NodeGroup>(NG, n))?.status?.nodeTemplate);
  });
  afterAll(async () => {
    await op?.stop();
    await deleteNamespace(kube, NS);
    for (const n of [XL, SPECIAL]) await deleteTestAsg(asg, ec2, kube, n);
    await resetTestbedAsg(asg, kube);
  });

  it('a nodeSelector only one of two groups satisfies grows that group', async () => {
    // the existing c5.xlarge holds three 1-CPU pods; the fourth needs a c5.xlarge, which only scaler-test-xlarge launches
    await kube.create(DEPLOYMENT, deployment(NS, 'compute', 4, '1', '512Mi', { nodeSelector: { 'node.kubernetes.io/instance-type': 'c5.xlarge' } }));
    await waitFor('4 compute pods running', async () => {
      const pods = await podsOf(kube, NS, 'compute');
      return pods.length === 4 && pods.every((p) => p.status?.phase === 'Running');
    }, 90_000);
    expect(await desired(XL)).toBe(1);
    expect(await desired(TESTBED_ASG)).toBe(0);
    const ev = await eventsOf(kube, NS, 'TriggeredScaleUp');
    expect(ev.map((e) => e.message)).toEqual([`pod triggered scale-up: [{${XL} 0->1 (max: 5)}]`]);
  });

  it('scale-from-zero from template tags: tolerating pods grow the tainted group, others get NotTriggerScaleUp naming the taint', async () => {
    const ng = await kube.get<NodeGroup>(NG, SPECIAL);
    expect(ng?.status?.nodeTemplate?.labels?.pool).toBe('special');
    expect(ng?.status?.nodeTemplate?.taints).toEqual([{ key: 'dedicated', value: 'special', effect: 'NoSchedule' }]);
    expect(ng?.status?.nodeTemplate?.zones).toEqual(['cn-northwest-1a']);

    const toleration = [{ key: 'dedicated', operator: 'Equal', value: 'special', effect: 'NoSchedule' }];
    await kube.create(DEPLOYMENT, deployment(NS, 'special', 2, '900m', '256Mi', { nodeSelector: { pool: 'special' }, tolerations: toleration }));
    await kube.create(DEPLOYMENT, deployment(NS, 'intruder', 1, '100m', '64Mi', { nodeSelector: { pool: 'special' } }));

    // the simulator registers the group's node with the template's label and taint, as a real node's
    // user data (--node-labels / --register-with-taints) would
    const ids = new Set<string>();
    const node = await waitFor('the special node registers', async () => {
      for (const i of (await asgOf(asg, SPECIAL)).Instances ?? []) ids.add(i.InstanceId ?? '');
      return (await kube.list<Node>(NODE)).items.find((n) => ids.has(/(i-[0-9a-z]+)$/.exec(n.spec?.providerID ?? '')?.[1] ?? ''));
    }, 60_000);
    expect(node.metadata?.labels?.pool).toBe('special');
    expect(node.spec?.taints).toContainEqual({ key: 'dedicated', value: 'special', effect: 'NoSchedule' });

    await waitFor('special pods running on the new node', async () => {
      const pods = await podsOf(kube, NS, 'special');
      return pods.length === 2 && pods.every((p) => p.status?.phase === 'Running' && p.spec?.nodeName === node.metadata?.name);
    }, 60_000);
    expect(await desired(SPECIAL)).toBe(1);
    const not = await waitFor('NotTriggerScaleUp', async () => {
      const e = (await eventsOf(kube, NS, 'NotTriggerScaleUp')).filter((x) => x.involvedObject?.name?.startsWith('intruder'));
      return e.length ? e : undefined;
    }, 30_000);
    expect(not[0]!.message).toContain(`${SPECIAL}: untolerated taint dedicated=special:NoSchedule`);
    expect(not[0]!.message).toContain(`${TESTBED_ASG}: node selector pool=special does not match`);
    expect((await podsOf(kube, NS, 'intruder'))[0]?.status?.phase).toBe('Pending');
    expect(await desired(TESTBED_ASG)).toBe(0);
  });
});
