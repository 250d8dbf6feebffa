import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceTypeFactsFromSdk } from '@kube-iaas/core/instance-types';
import { DescribeInstanceTypesCommand } from '@aws-sdk/client-ec2';
import type { NodeGroup } from '@kube-iaas/crds';
import { planScaleUp } from '../../src/plan/planner.ts';
import { buildNodeTemplate } from '../../src/template/build.ts';
import { KUBELET_RESERVED } from '@kube-iaas/testbed';
import { podRequirements } from '../../src/plan/pod.ts';
import { nodeShape } from '../../src/plan/node.ts';
import type { V1Node as Node, V1Pod as Pod } from '@kubernetes/client-node';
import type { ScalerOperator } from '../../src/operator.ts';
import { asgOf, clients, createNamespace, deleteNamespace, deployment, DEPLOYMENT, eventsOf, NG, NODE, podsOf, resetTestbedAsg, startOperator, TESTBED_ASG, waitFor } from './helpers.ts';

const NS = 'scaler-article';
const { kube, asg, ec2 } = clients();
let op: ScalerOperator;

describe('the article’s §7 flow on the testbed', () => {
  beforeAll(async () => {
    await resetTestbedAsg(asg, kube);
    await createNamespace(kube, NS);
    op = await startOperator(['--no-scale-down-enabled']);
  });
  afterAll(async () => {
    await op?.stop();
    await deleteNamespace(kube, NS);
    await resetTestbedAsg(asg, kube);
  });

  it('discovers the tagged ASG as a NodeGroup with a c5.large template', async () => {
    const ng = await waitFor('NodeGroup', async () => {
      const g = await kube.get<NodeGroup>(NG, TESTBED_ASG);
      return g?.status?.nodeTemplate ? g : undefined;
    });
    expect(ng.spec.asgName).toBe(TESTBED_ASG);
    expect(ng.status?.maxSize).toBe(10);
    expect(ng.status?.nodeTemplate?.instanceTypes).toEqual(['c5.large']);
    expect(ng.status?.nodeTemplate?.allocatable).toMatchObject({ cpu: '1900m', memory: '3584Mi', pods: '29' });
    expect(ng.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });

  it('a Deployment needing more CPU than the three nodes raises the ASG by exactly the packed count, and every pod gets bound', async () => {
    // What packing says, from the real nodes and the template: 16 × 900m; the nodes hold 2 + 4 + 2.
    const nodes = (await kube.list<Node>(NODE)).items;
    const it = (await ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: ['c5.large'] }))).InstanceTypes![0]!;
    const f = instanceTypeFactsFromSdk(it);
    const dep = deployment(NS, 'nginx', 16, '900m', '256Mi');
    const podSpec = (dep.spec as { template: { spec: Pod['spec'] } }).template.spec;
    const expected = planScaleUp({
      pods: Array.from({ length: 16 }, (_, i) => podRequirements({ metadata: { name: `p${i}`, namespace: NS }, spec: podSpec })),
      nodes: nodes.map((n) => ({ node: nodeShape(n), used: {} })),
      groups: [
        {
          name: TESTBED_ASG,
          desired: 0,
          max: 10,
          upcoming: 0,
          priority: 0,
          template: buildNodeTemplate({
            group: TESTBED_ASG,
            region: 'cn-northwest-1',
            zones: ['cn-northwest-1a', 'cn-northwest-1b'],
            launch: { source: 'launch-template', instanceTypes: ['c5.large'] },
            facts: new Map([['c5.large', f]]),
            asgTags: {},
            reserved: { cpu: KUBELET_RESERVED.cpuMillis, memory: KUBELET_RESERVED.memoryMiB * 2 ** 20 },
            defaultEphemeralStorage: 20 * 2 ** 30,
          }),
        },
      ],
    });
    expect(expected.scaleUps[0]?.to).toBe(4); // the article's number

    const t0 = Date.now();
    await kube.create(DEPLOYMENT, dep);
    let maxDesired = 0;
    const desiredAt = await waitFor('desired capacity 4', async () => {
      const g = await asgOf(asg, TESTBED_ASG);
      maxDesired = Math.max(maxDesired, g.DesiredCapacity ?? 0);
      return (g.DesiredCapacity ?? 0) >= 4 ? Date.now() : undefined;
    }, 60_000, 100);
    await waitFor('16 pods running', async () => {
      const g = await asgOf(asg, TESTBED_ASG);
      maxDesired = Math.max(maxDesired, g.DesiredCapacity ?? 0);
      const pods = await podsOf(kube, NS, 'nginx');
      return pods.length === 16 && pods.every((p) => p.spec?.nodeName && p.status?.phase === 'Running');
    }, 120_000, 250);
    // a few more scans while nothing is pending: no over-scaling
    await new Promise((r) => setTimeout(r, 3_000));
    const g = await asgOf(asg, TESTBED_ASG);
    expect(Math.max(maxDesired, g.DesiredCapacity ?? 0)).toBe(4);
    expect(g.Instances?.length).toBe(4);
    expect((await kube.list(NODE)).items).toHaveLength(7);
    console.log(`article flow: Deployment created → SetDesiredCapacity seen after ${desiredAt - t0} ms; all 16 pods Running after ${Date.now() - t0 - 3000} ms`);

    const triggered = await eventsOf(kube, NS, 'TriggeredScaleUp');
    expect(triggered.length).toBe(8);
    expect(triggered[0]!.message).toBe(`pod triggered scale-up: [{${TESTBED_ASG} 0->4 (max: 10)}]`);
    const ng = await waitFor('status', async () => {
      const x = await kube.get<NodeGroup>(NG, TESTBED_ASG);
      return x?.status?.ready === 4 ? x : undefined;
    });
    expect(ng.status).toMatchObject({ desired: 4, current: 4, ready: 4, upcoming: 0, lastScaleUp: { from: 0, to: 4, reason: '8 pending pod(s) need 4 c5.large node(s)' } });
  });
});
