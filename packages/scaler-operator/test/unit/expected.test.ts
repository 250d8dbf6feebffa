import { describe, expect, it } from 'vitest';
import { declaredPods, expectedPods, trimWorkload, type WorkloadPending } from '../../src/plan/expected.ts';
import { podRequirements } from '../../src/plan/pod.ts';
import { planScaleUp, type ExistingNode, type PlanGroup } from '../../src/plan/planner.ts';
import { MiB, pod, template } from './fixtures.ts';

const small = (name: string) => podRequirements(pod(name, { cpu: '100m', memory: '64Mi' }));

/** A ReplicaSet with `declared` replicas, `bound` pods on nodes and `unbound` pods created so far. */
function replicaSet(declared: number, unbound: number, bound = 0): WorkloadPending {
  const pods = Array.from({ length: unbound }, (_, i) => small(`web-${i}`));
  return { key: 'ReplicaSet default/web', kind: 'ReplicaSet', declared, bound, unbound: pods, sample: pods[0] ?? small('web-0') };
}

const group = (name: string, over: Partial<PlanGroup> = {}): PlanGroup => ({ name, template: template(), desired: 0, max: 100, upcoming: 0, priority: 0, ...over });

/** What packing says for n such pods, all created: the bound never to exceed. */
function packed(n: number, groups: PlanGroup[], nodes: ExistingNode[] = []): number {
  const plan = planScaleUp({ pods: Array.from({ length: n }, (_, i) => small(`all-${i}`)), groups, nodes });
  return plan.scaleUps.reduce((s, x) => s + x.to - x.from, 0);
}

const nodesAsked = (plan: ReturnType<typeof planScaleUp>) => plan.scaleUps.reduce((s, x) => s + x.to - x.from, 0);

describe('declared pods', () => {
  it('ReplicaSet and StatefulSet replicas (1 when unset, 0 while being deleted)', () => {
    expect(declaredPods('ReplicaSet', { spec: { replicas: 1000 } }, 40)).toBe(1000);
    expect(declaredPods('StatefulSet', { spec: {} }, 0)).toBe(1);
    expect(declaredPods('ReplicaSet', { metadata: { deletionTimestamp: new Date() }, spec: { replicas: 5 } }, 5)).toBe(0);
  });
  it('a Job: parallelism capped by the completions still missing; 0 suspended or finished; a work queue stops at its first success', () => {
    expect(declaredPods('Job', { spec: { parallelism: 50, completions: 200 }, status: { succeeded: 170 } }, 10)).toBe(30);
    expect(declaredPods('Job', { spec: { parallelism: 50, completions: 200 } }, 0)).toBe(50);
    expect(declaredPods('Job', { spec: {} }, 0)).toBe(1);
    expect(declaredPods('Job', { spec: { parallelism: 5, suspend: true } }, 0)).toBe(0);
    expect(declaredPods('Job', { spec: { parallelism: 5 }, status: { conditions: [{ type: 'Complete', status: 'True' }] } }, 0)).toBe(0);
    expect(declaredPods('Job', { spec: { parallelism: 8 } }, 3)).toBe(8);
    expect(declaredPods('Job', { spec: { parallelism: 8 }, status: { succeeded: 1 } }, 3)).toBe(3);
  });
  it('the cache keeps only the counts, not the pod template', () => {
    const t = trimWorkload({ kind: 'ReplicaSet', metadata: { name: 'web', namespace: 'default', uid: 'u' }, spec: { replicas: 3, template: { spec: { containers: [] } } } as never });
    expect(t.spec).toEqual({ replicas: 3, parallelism: undefined, completions: undefined, suspend: undefined });
    expect(declaredPods('ReplicaSet', t, 0)).toBe(3);
  });
});

describe('expected pods', () => {
  it('a ReplicaSet of 1,000 replicas with 40 pods so far: the 40, then 960 copies of its pod', () => {
    const e = expectedPods(replicaSet(1000, 40));
    expect(e.pods).toHaveLength(1000);
    expect(e.expected).toBe(960);
    expect(e.pods[40]!.key).toBe('ReplicaSet default/web#expected-0');
    expect(e.pods[40]!.requests).toEqual(e.pods[0]!.requests);
  });
  it('pods already bound count against the declared number', () => {
    expect(expectedPods(replicaSet(100, 10, 80)).pods).toHaveLength(20);
  });
  it('a StatefulSet’s pods to come get claims of their own: the sample’s volume zone does not bind them', () => {
    const zoned = { ...small('db-0'), volumeAffinity: [{ nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['cn-northwest-1a'] }] }] }] };
    const e = expectedPods({ key: 'StatefulSet default/db', kind: 'StatefulSet', declared: 3, bound: 0, unbound: [zoned], sample: zoned });
    expect(e.pods.map((p) => p.volumeAffinity.length)).toEqual([1, 0, 0]);
  });
});

describe('planning for declared pods: one scale-up of the right size, never above what packing says', () => {
  it('1,000 replicas, 40 created: ⌈1000 / 19⌉ = 53 c5.large at once', () => {
    const plan = planScaleUp({ pods: expectedPods(replicaSet(1000, 40)).pods, groups: [group('g')] });
    expect(plan.scaleUps).toEqual([expect.objectContaining({ group: 'g', from: 0, to: 53 })]);
    expect(nodesAsked(plan)).toBe(packed(1000, [group('g')]));
  });

  it('a Deployment scaled back down before its pods exist: only the declared count is planned, the surplus unbound pods are not', () => {
    // 1,000 declared, 40 created and unschedulable, then scaled to 10: the ReplicaSet deletes 30
    const e = expectedPods(replicaSet(10, 40));
    expect(e.pods).toHaveLength(10);
    expect(e.surplus).toHaveLength(30);
    const plan = planScaleUp({ pods: e.pods, groups: [group('g')] });
    expect(nodesAsked(plan)).toBe(1);
    expect(nodesAsked(plan)).toBe(packed(10, [group('g')]));
    // scaled down to fewer than are running: nothing to plan
    expect(expectedPods(replicaSet(5, 3, 8)).pods).toEqual([]);
  });

  it('a ReplicaSet whose pods fit on free capacity: they go to the existing nodes, no node is asked for', () => {
    // 10 nodes with 1500m free each: room for 150 pods of 100m
    const nodes: ExistingNode[] = Array.from({ length: 10 }, (_, i) => ({
      node: { name: `n${i}`, labels: {}, taints: [], allocatable: { cpu: 1900, memory: 3584 * MiB, pods: 29 } },
      used: { cpu: 400, memory: 512 * MiB, pods: 4 },
    }));
    const plan = planScaleUp({ pods: expectedPods(replicaSet(120, 5)).pods, groups: [group('g')], nodes });
    expect(plan.onExisting).toHaveLength(120);
    expect(plan.scaleUps).toEqual([]);
    // 100 more than the free room: only those get nodes (⌈(220 − 150) / 19⌉ = 4 if packed alone — the nodes' leftovers count)
    const more = planScaleUp({ pods: expectedPods(replicaSet(220, 5)).pods, groups: [group('g')], nodes });
    expect(nodesAsked(more)).toBe(packed(220, [group('g')], nodes));
    expect(nodesAsked(more)).toBeLessThanOrEqual(Math.ceil((220 - 150) / 19));
  });

  it('pods that another group’s upcoming nodes will take: no scale-up of any group', () => {
    // group a asked for 53 nodes (not joined yet); the ReplicaSet's next pods fit there
    const groups = [group('a', { desired: 53, upcoming: 53 }), group('b')];
    const plan = planScaleUp({ pods: expectedPods(replicaSet(1000, 300)).pods, groups });
    expect(plan.onUpcoming.a).toHaveLength(1000);
    expect(plan.scaleUps).toEqual([]);
    // half of them joined and hold 500 pods: the rest still fit the 26 upcoming ones
    const later = planScaleUp({ pods: expectedPods(replicaSet(1000, 200, 500)).pods, groups: [group('a', { desired: 53, upcoming: 27 }), group('b')] });
    expect(later.scaleUps).toEqual([]);
  });
});
