import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsCallStats } from '@kube-iaas/core/aws';
import { type KubeObject } from '@kube-iaas/core/runtime';
import type { NodeGroup } from '@kube-iaas/crds';
import type { ScalerOperator } from '../../src/operator.ts';
import { afterRuns, asgOf, clients, EVENT, NG, resetTestbedAsg, startOperator, TESTBED_ASG, waitFor } from './helpers.ts';

const { kube, asg } = clients();
let op: ScalerOperator;

async function nodeGroupEvents(reason: string): Promise<string[]> {
  const list = await kube.list<KubeObject & { reason?: string; message?: string; involvedObject?: { name?: string; kind?: string } }>(EVENT, { namespace: 'default' });
  return list.items.filter((e) => e.involvedObject?.kind === 'NodeGroup' && e.involvedObject.name === TESTBED_ASG && e.reason === reason).map((e) => e.message ?? '');
}

describe('spec.minSize / maxSize and manageAsgLimits', () => {
  beforeAll(async () => {
    await resetTestbedAsg(asg, kube);
    op = await startOperator(['--no-scale-down-enabled']);
    await waitFor('NodeGroup', async () => (await kube.get<NodeGroup>(NG, TESTBED_ASG))?.status?.nodeTemplate);
  });
  afterAll(async () => {
    await kube.patch(NG, { name: TESTBED_ASG }, { spec: { minSize: null, maxSize: null, manageAsgLimits: false } }).catch(() => undefined);
    // turning manageAsgLimits off puts the ASG's limits back and drops the record and finalizer: wait for it
    await waitFor('limits record dropped', async () => !(await kube.get<NodeGroup>(NG, TESTBED_ASG))?.metadata.finalizers?.length || undefined, 30_000).catch(() => undefined);
    await op?.stop();
    await resetTestbedAsg(asg, kube);
  });

  it('spec limits narrow what the operator does, but never change the ASG unless manageAsgLimits says so', async () => {
    const before = awsCallStats();
    await kube.patch(NG, { name: TESTBED_ASG }, { spec: { minSize: 1, maxSize: 6 } });
    const ng = await waitFor('status shows the spec limits', async () => {
      const n = await kube.get<NodeGroup>(NG, TESTBED_ASG);
      return n?.status?.minSize === 1 && n.status.maxSize === 6 ? n : undefined;
    });
    expect(ng.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    // a few runs later: still no write to the ASG
    await afterRuns(2);
    const g = await asgOf(asg, TESTBED_ASG);
    expect([g.MinSize, g.MaxSize, g.DesiredCapacity]).toEqual([0, 10, 0]);
    expect(awsCallStats().since(before).mutate).toBe(0);

    // a spec max above the ASG's own is cut to what AWS allows
    await kube.patch(NG, { name: TESTBED_ASG }, { spec: { maxSize: 20 } });
    await waitFor('effective max 10', async () => (await kube.get<NodeGroup>(NG, TESTBED_ASG))?.status?.maxSize === 10);
  });

  it('with manageAsgLimits the spec limits are written to the ASG once, the desired capacity clamped into them', async () => {
    const before = awsCallStats();
    await kube.patch(NG, { name: TESTBED_ASG }, { spec: { minSize: 1, maxSize: 6, manageAsgLimits: true } });
    const g = await waitFor('ASG limits written', async () => {
      const x = await asgOf(asg, TESTBED_ASG);
      return x.MinSize === 1 && x.MaxSize === 6 ? x : undefined;
    }, 30_000);
    expect(g.DesiredCapacity).toBe(1);
    await waitFor('event', async () => (await nodeGroupEvents('UpdatedAsgLimits')).some((m) => m.includes('MinSize/MaxSize 0/10 -> 1/6 (spec.manageAsgLimits), desired capacity 1')));
    await afterRuns(2);
    expect(awsCallStats().since(before).byOperation({ class: 'mutate' })).toEqual({ 'autoscaling:UpdateAutoScalingGroup': 1 });
    const ng = await kube.get<NodeGroup>(NG, TESTBED_ASG);
    expect([ng?.status?.minSize, ng?.status?.maxSize]).toEqual([1, 6]);
  });

  it('the API server refuses manageAsgLimits without both sizes, naming the field', async () => {
    const err = await kube
      .create(NG, { apiVersion: NG.apiVersion, kind: 'NodeGroup', metadata: { name: 'limits-half' }, spec: { asgName: TESTBED_ASG, maxSize: 3, manageAsgLimits: true } } as never)
      .catch((e: unknown) => e);
    expect(String(err)).toMatch(/spec.manageAsgLimits needs both spec.minSize and spec.maxSize/);
  });
});
