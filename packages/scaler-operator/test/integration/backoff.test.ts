import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteLaunchTemplateCommand } from '@aws-sdk/client-ec2';
import type { KubeObject } from '@kube-iaas/core/runtime';
import type { NodeGroup } from '@kube-iaas/crds';
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
  EVENT,
  NG,
  podsOf,
  resetTestbedAsg,
  startOperator,
  TESTBED_ASG,
  waitFor,
} from './helpers.ts';

const NS = 'scaler-backoff';
const BROKEN = 'scaler-test-broken';
const { kube, asg, ec2 } = clients();
const cluster = 'int32bit-kubernetes';
let op: ScalerOperator;

async function nodeGroupEvents(name: string): Promise<string[]> {
  const list = await kube.list<KubeObject & { reason?: string; message?: string; involvedObject?: { name?: string; kind?: string } }>(EVENT, { namespace: 'default' });
  return list.items.filter((e) => e.involvedObject?.kind === 'NodeGroup' && e.involvedObject.name === name).map((e) => `${e.reason}: ${e.message}`);
}

describe('a group that cannot launch backs off and its pods go to another group', () => {
  beforeAll(async () => {
    await resetTestbedAsg(asg, kube);
    await deleteTestAsg(asg, ec2, kube, BROKEN);
    await createTestAsg(asg, ec2, { name: BROKEN, instanceType: 'c5.large', zones: 'a', tags: autoscalerDiscoveryTags(cluster) });
    await createNamespace(kube, NS);
    op = await startOperator(['--no-scale-down-enabled', '--expander=priority', '--scale-up-backoff=5m']);
    await waitFor(`NodeGroup ${BROKEN}`, async () => (await kube.get<NodeGroup>(NG, BROKEN))?.status?.nodeTemplate);
    await kube.patch(NG, { name: BROKEN }, { spec: { priority: 10 } });
    await waitFor('priority seen', async () => (await kube.get<NodeGroup>(NG, BROKEN))?.metadata?.generation === 2);
  });
  afterAll(async () => {
    await op?.stop();
    await deleteNamespace(kube, NS);
    await deleteTestAsg(asg, ec2, kube, BROKEN);
    await resetTestbedAsg(asg, kube);
  });

  it('launch template deleted under the ASG: SetDesiredCapacity fails, the group backs off, the pods scale the testbed group', async () => {
    // The operator read the template when it discovered the group (and keeps it cached); AWS launches
    // fail once the template is gone (moto refuses the SetDesiredCapacity itself).
    await ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateName: `lt-${BROKEN}` }));
    // 10 × 900m: 8 fit on the three nodes, 2 need one c5.large; the broken group is preferred
    await kube.create(DEPLOYMENT, deployment(NS, 'web', 10, '900m', '256Mi'));

    const broken = await waitFor('broken group backs off', async () => {
      const ng = await kube.get<NodeGroup>(NG, BROKEN);
      return ng?.status?.conditions?.find((c) => c.type === 'Backoff')?.status === 'True' ? ng : undefined;
    }, 30_000);
    expect(broken.status?.backoffReason).toMatch(/^SetDesiredCapacity failed: /);
    expect(broken.status?.backoffUntil).toBeTruthy();
    await waitFor('web pods running via the testbed group', async () => {
      const pods = await podsOf(kube, NS, 'web');
      return pods.length === 10 && pods.every((p) => p.status?.phase === 'Running');
    }, 60_000);
    expect((await asgOf(asg, TESTBED_ASG)).DesiredCapacity).toBe(1);
    expect((await asgOf(asg, BROKEN)).DesiredCapacity).toBe(0);
    const events = await nodeGroupEvents(BROKEN);
    expect(events.some((e) => e.startsWith('FailedToScaleUpGroup: SetDesiredCapacity 0->1 failed'))).toBe(true);
    expect(events.some((e) => /^ScaleUpBackoff: scale-up of scaler-test-broken backs off for 300s/.test(e))).toBe(true);
    const pending = (await kube.list<KubeObject & { reason?: string; message?: string; involvedObject?: { name?: string } }>(EVENT, { namespace: NS })).items.filter((e) => e.reason === 'TriggeredScaleUp');
    expect(pending.some((e) => e.message?.includes(`{${TESTBED_ASG} 0->1 (max: 10)}`))).toBe(true);
  });
});
