import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateOrUpdateTagsCommand, DeleteTagsCommand } from '@aws-sdk/client-auto-scaling';
import { awsCallStats } from '@kube-iaas/core/aws';
import { type KubeObject } from '@kube-iaas/core/runtime';
import type { ScalerOperator } from '../../src/operator.ts';
import {
  asgOf,
  clients,
  createNamespace,
  deleteNamespace,
  deployment,
  DEPLOYMENT,
  JOIN_DELAY_TAG,
  NODE,
  POD,
  podsOf,
  resetTestbedAsg,
  startOperator,
  TESTBED_ASG,
  waitFor,
} from './helpers.ts';

const NS = 'scaler-batches';
const { kube, asg } = clients();
let op: ScalerOperator;

interface PodWithConditions extends KubeObject {
  spec?: { nodeName?: string };
  status?: { phase?: string; conditions?: { type?: string; status?: string; reason?: string }[] };
}

const unschedulable = (p: PodWithConditions) => p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable') ?? false;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('repeated batches while nodes boot', () => {
  beforeAll(async () => {
    await resetTestbedAsg(asg, kube);
    // the group's nodes take 25 s to join: long enough for several batches to see them as upcoming
    await asg.send(new CreateOrUpdateTagsCommand({ Tags: [{ ResourceId: TESTBED_ASG, ResourceType: 'auto-scaling-group', Key: JOIN_DELAY_TAG, Value: '25', PropagateAtLaunch: false }] }));
    await createNamespace(kube, NS);
    op = await startOperator(['--no-scale-down-enabled', '--batch-idle=300ms', '--batch-max=2s']);
  });
  afterAll(async () => {
    await op?.stop();
    await deleteNamespace(kube, NS);
    await asg.send(new DeleteTagsCommand({ Tags: [{ ResourceId: TESTBED_ASG, ResourceType: 'auto-scaling-group', Key: JOIN_DELAY_TAG }] })).catch(() => undefined);
    await resetTestbedAsg(asg, kube);
  });

  it('counts asked-for nodes as upcoming capacity: desired rises once, by what packing says, however many batches follow', async () => {
    const before = awsCallStats();
    const samples: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.push((await asgOf(asg, TESTBED_ASG)).DesiredCapacity ?? -1);
        await sleep(200);
      }
    })();
    try {
      // 16 × 900m: the three nodes hold 8 (2 + 4 + 2), the other 8 need 4 c5.large (2 each)
      await kube.create(DEPLOYMENT, deployment(NS, 'web', 16, '900m', '256Mi'));
      await waitFor('first scale-up', async () => (await asgOf(asg, TESTBED_ASG)).DesiredCapacity === 4, 30_000, 100);

      // While the 4 nodes boot, pods of the same Deployment keep being marked unschedulable: each round
      // deletes two pending pods, the ReplicaSet replaces them, the scheduler marks the new ones, a new
      // batch closes and the scaler plans again.
      const replacements = new Set<string>();
      for (let round = 0; round < 4; round++) {
        const pending = (await podsOf(kube, NS, 'web')).filter((p) => !p.spec?.nodeName && !p.metadata?.deletionTimestamp);
        const known = new Set(pending.map((p) => p.metadata?.name));
        for (const p of pending.slice(0, 2)) await kube.delete(POD, { name: p.metadata!.name!, namespace: NS });
        const fresh = await waitFor(`round ${round}: replacements marked unschedulable`, async () => {
          const pods = (await kube.list<PodWithConditions>(POD, { namespace: NS, labelSelector: 'app=web' })).items;
          const marked = pods.filter((p) => !known.has(p.metadata?.name) && !replacements.has(p.metadata?.name ?? '') && unschedulable(p));
          return marked.length >= 2 ? marked : undefined;
        }, 20_000, 100);
        for (const p of fresh) replacements.add(p.metadata!.name!);
        // past the batch idle time, so the scaler sees this round as its own batch
        await sleep(1500);
      }
      // the rounds happened while the new nodes were still booting
      expect((await kube.list(NODE)).items).toHaveLength(3);
      expect(replacements.size).toBe(8);

      await waitFor('all 16 pods running', async () => {
        const pods = await podsOf(kube, NS, 'web');
        return pods.length === 16 && pods.every((p) => p.status?.phase === 'Running');
      }, 90_000);
      // a few scans after the nodes joined
      await sleep(3000);
    } finally {
      sampling = false;
      await sampler;
    }
    expect(Math.max(...samples)).toBe(4);
    expect(samples.filter((d, i) => i > 0 && d !== samples[i - 1])).toEqual([4]);
    const calls = awsCallStats().since(before).byOperation({ class: 'mutate' });
    expect(calls).toEqual({ 'autoscaling:SetDesiredCapacity': 1 });
    expect((await asgOf(asg, TESTBED_ASG)).DesiredCapacity).toBe(4);
  });
});
