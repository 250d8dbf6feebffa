// Issue #22, defect 9: a second NodeGroup for a discovered ASG changed its limits (MaxSize 10 -> 10000)
// and left them changed after it was deleted. Now the first NodeGroup owns the ASG, a second one is in
// Conflict and makes no call, and limits the operator did change go back when their NodeGroup goes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsCallStats } from '@kube-iaas/core/aws';
import { type KubeObject } from '@kube-iaas/core/runtime';
import type { NodeGroup } from '@kube-iaas/crds';
import type { ScalerOperator } from '../../src/operator.ts';
import { afterRuns, asgOf, clients, EVENT, NG, resetTestbedAsg, startOperator, TESTBED_ASG, waitFor } from './helpers.ts';

const SECOND = 'tenant-b-nodes';
const { kube, asg } = clients();
let op: ScalerOperator;

const ready = (ng: NodeGroup | undefined) => ng?.status?.conditions?.find((c) => c.type === 'Ready');

async function eventsFor(name: string, reason: string): Promise<string[]> {
  const list = await kube.list<KubeObject & { reason?: string; message?: string; involvedObject?: { name?: string; kind?: string } }>(EVENT, { namespace: 'default' });
  return list.items.filter((e) => e.involvedObject?.kind === 'NodeGroup' && e.involvedObject.name === name && e.reason === reason).map((e) => e.message ?? '');
}

async function deleteAndWait(name: string): Promise<void> {
  await kube.delete(NG, { name }).catch(() => undefined);
  await waitFor(`NodeGroup ${name} gone`, async () => (await kube.get<NodeGroup>(NG, name)) === undefined || undefined, 30_000);
}

describe('one NodeGroup per ASG, and ASG limits put back (issue #22)', () => {
  beforeAll(async () => {
    await resetTestbedAsg(asg, kube);
    op = await startOperator(['--no-scale-down-enabled']);
    await waitFor('discovered NodeGroup', async () => (await kube.get<NodeGroup>(NG, TESTBED_ASG))?.status?.nodeTemplate);
  });
  afterAll(async () => {
    await deleteAndWait(SECOND);
    await kube.patch(NG, { name: TESTBED_ASG }, { spec: { minSize: null, maxSize: null, manageAsgLimits: false } }).catch(() => undefined);
    await waitFor('no limits record left', async () => {
      const ng = await kube.get<NodeGroup>(NG, TESTBED_ASG);
      return !ng || !ng.metadata.finalizers?.length || undefined;
    }, 30_000).catch(() => undefined);
    await op?.stop();
    await resetTestbedAsg(asg, kube);
  });

  it('a second NodeGroup for the discovered ASG is in Conflict, naming the owner, and makes no AWS call', async () => {
    const before = awsCallStats();
    await kube.create(NG, { apiVersion: NG.apiVersion, kind: 'NodeGroup', metadata: { name: SECOND }, spec: { asgName: TESTBED_ASG, manageAsgLimits: true, minSize: 0, maxSize: 10000 } } as never);
    // several runs (1 s scan interval) later: the ASG is as seeded and nothing was written to AWS
    await waitFor('the second NodeGroup was looked at', async () => (await kube.get<NodeGroup>(NG, SECOND))?.status?.conditions?.length || undefined, 30_000);
    await afterRuns(2);
    const g = await asgOf(asg, TESTBED_ASG);
    expect([g.MinSize, g.MaxSize]).toEqual([0, 10]);
    expect(awsCallStats().since(before).byOperation({ class: 'mutate' })).toEqual({});
    const cond = ready(await kube.get<NodeGroup>(NG, SECOND));
    expect(cond?.reason).toBe('Conflict');
    expect(cond?.status).toBe('False');
    expect(cond?.message).toContain(`already managed by NodeGroup ${TESTBED_ASG}`);
    await waitFor('Warning Event', async () => (await eventsFor(SECOND, 'NodeGroupConflict')).length > 0 || undefined);
    // the owner is unaffected
    expect(ready(await kube.get<NodeGroup>(NG, TESTBED_ASG))?.status).toBe('True');

    await deleteAndWait(SECOND);
    const after = await asgOf(asg, TESTBED_ASG);
    expect([after.MinSize, after.MaxSize]).toEqual([0, 10]);
  });

  it('limits the owner changed go back as found when its NodeGroup is deleted', async () => {
    await kube.patch(NG, { name: TESTBED_ASG }, { spec: { minSize: 0, maxSize: 10000, manageAsgLimits: true } });
    await waitFor('MaxSize 10000 written', async () => (await asgOf(asg, TESTBED_ASG)).MaxSize === 10000 || undefined, 30_000);
    const uid = (await kube.get<NodeGroup>(NG, TESTBED_ASG))?.metadata.uid;
    await kube.delete(NG, { name: TESTBED_ASG });
    const g = await waitFor('limits back to 0/10', async () => {
      const x = await asgOf(asg, TESTBED_ASG);
      return x.MaxSize === 10 ? x : undefined;
    }, 30_000);
    expect(g.MinSize).toBe(0);
    expect((await eventsFor(TESTBED_ASG, 'RestoredAsgLimits')).some((m) => m.includes('0/10000 -> 0/10, as found before the operator changed them'))).toBe(true);
    // the deleted NodeGroup is gone (finalizer released) and discovery made a fresh one
    const fresh = await waitFor('rediscovered NodeGroup', async () => {
      const x = await kube.get<NodeGroup>(NG, TESTBED_ASG);
      return x && x.metadata.uid !== uid ? x : undefined;
    }, 30_000);
    expect(fresh.spec.manageAsgLimits).not.toBe(true);
  });
});
