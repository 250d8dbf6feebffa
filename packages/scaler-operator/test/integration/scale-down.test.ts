import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeGroup } from '@kube-iaas/crds';
import type { KubeObject } from '@kube-iaas/core/runtime';
import type { V1Node as Node } from '@kubernetes/client-node';
import type { ScalerOperator } from '../../src/operator.ts';
import { asgOf, clients, createNamespace, deleteNamespace, deployment, DEPLOYMENT, EVENT, NG, NODE, PDB, podsOf, resetTestbedAsg, startOperator, TESTBED_ASG, waitFor } from './helpers.ts';

const NS = 'scaler-down';
const { kube, asg } = clients();
let op: ScalerOperator;

async function desired(): Promise<number> {
  return (await asgOf(asg, TESTBED_ASG)).DesiredCapacity ?? -1;
}

async function asgNodes(): Promise<Node[]> {
  const ids = new Set(((await asgOf(asg, TESTBED_ASG)).Instances ?? []).map((i) => i.InstanceId));
  return (await kube.list<Node>(NODE)).items.filter((n) => ids.has(/(i-[0-9a-z]+)$/.exec(n.spec?.providerID ?? '')?.[1]));
}

async function setMin(min: number): Promise<void> {
  await kube.patch(NG, { name: TESTBED_ASG }, { spec: { minSize: min } });
}

async function stableFor(ms: number, value: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    expect(await desired()).toBe(value);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('scale-down on the testbed', () => {
  beforeAll(async () => {
    await resetTestbedAsg(asg, kube);
    await createNamespace(kube, NS);
    op = await startOperator(['--scale-down-unneeded-time=2s', '--scale-down-delay-after-add=0', '--eviction-retry=500ms', '--max-graceful-termination=2m']);
    await waitFor('NodeGroup', async () => (await kube.get<NodeGroup>(NG, TESTBED_ASG))?.status?.nodeTemplate);
  });
  afterAll(async () => {
    await op?.stop();
    await kube.patch(NG, { name: TESTBED_ASG }, { spec: { minSize: null } }).catch(() => undefined);
    await deleteNamespace(kube, NS);
    await resetTestbedAsg(asg, kube);
  });

  it('grows for the Deployment, then after it shrinks drains idle nodes down to minSize, and a PDB holds a node until it allows the eviction', async () => {
    await kube.create(DEPLOYMENT, deployment(NS, 'nginx', 16, '900m', '256Mi'));
    await waitFor('16 pods running on 7 nodes', async () => {
      const pods = await podsOf(kube, NS, 'nginx');
      return pods.length === 16 && pods.every((p) => p.status?.phase === 'Running') && (await desired()) === 4;
    }, 120_000);

    // min respected: with minSize 3 only one of the four idle nodes goes
    await setMin(3);
    await kube.patch(DEPLOYMENT, { name: 'nginx', namespace: NS }, { spec: { replicas: 0 } });
    await waitFor('desired 3', async () => (await desired()) === 3, 60_000);
    await waitFor('3 ASG nodes', async () => (await asgNodes()).length === 3, 30_000);
    await stableFor(4_000, 3);

    // a pod protected by a PDB on one of the group's nodes
    const target = (await asgNodes())[0]!.metadata!.name!;
    await kube.create(
      DEPLOYMENT,
      deployment(NS, 'held', 1, '100m', '64Mi', {
        affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [target] }] } }] } },
      }),
    );
    await kube.create(PDB, { metadata: { name: 'held', namespace: NS }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'held' } } } } as never);
    await waitFor('held pod on the target node', async () => {
      const p = (await podsOf(kube, NS, 'held'))[0];
      return p?.status?.phase === 'Running' && p.spec?.nodeName === target;
    }, 60_000);

    await setMin(0);
    // the two empty nodes go in bulk; the held node is cordoned and waits for the PDB
    await waitFor('desired 1', async () => (await desired()) === 1, 60_000);
    const held = await waitFor('target cordoned', async () => {
      const n = await kube.get<Node>(NODE, target);
      return n?.spec?.unschedulable && n.spec.taints?.some((t) => t.key === 'ToBeDeletedByClusterAutoscaler') ? n : undefined;
    }, 30_000);
    expect(held.metadata?.name).toBe(target);
    await stableFor(4_000, 1);
    expect((await podsOf(kube, NS, 'held'))[0]?.spec?.nodeName).toBe(target);
    const waiting = (await kube.list<KubeObject & { reason?: string; message?: string; involvedObject?: { name?: string } }>(EVENT, { namespace: 'default' })).items.filter(
      (e) => e.involvedObject?.name === target && /PodDisruptionBudget/.test(e.message ?? ''),
    );
    expect(waiting.length).toBeGreaterThan(0);

    // the PDB allows it: the pod is evicted, the instance terminated with the desired capacity decremented
    await kube.patch(PDB, { name: 'held', namespace: NS }, { spec: { minAvailable: 0 } });
    await waitFor('desired 0', async () => (await desired()) === 0, 60_000);
    await waitFor('held pod running elsewhere', async () => {
      const p = (await podsOf(kube, NS, 'held')).find((x) => x.status?.phase === 'Running');
      return p && p.spec?.nodeName !== target;
    }, 60_000);
    const ng = await waitFor('status', async () => {
      const x = await kube.get<NodeGroup>(NG, TESTBED_ASG);
      return x?.status?.lastScaleDown?.nodes?.includes(target) ? x : undefined;
    });
    expect(ng.status?.lastScaleDown?.reason).toMatch(/underutilized/);
  });
});
