import { describe, expect, it } from 'vitest';
import { matchRequirement, placementMismatch, fitMismatch, type NodeShape } from '../../src/plan/match.ts';
import { isUnschedulable, podRequirements, specRequests } from '../../src/plan/pod.ts';
import { formatReasons, planScaleUp, type ExistingNode, type PlanGroup } from '../../src/plan/planner.ts';
import { expand, waste } from '../../src/plan/expander.ts';
import { FACTS, GiB, MiB, pod, template } from './fixtures.ts';
import type { NodeTemplate } from '../../src/template/build.ts';

const zoneA = 'cn-northwest-1a';
const zoneB = 'cn-northwest-1b';

function group(name: string, t: NodeTemplate, over: Partial<PlanGroup> = {}): PlanGroup {
  return { name, template: t, desired: 0, max: 10, upcoming: 0, priority: 0, ...over };
}

/** The testbed's three nodes: c5.large (a), c5.xlarge (a), c5.large (b); allocatable = capacity − 100m / 512Mi. */
function testbedNodes(): ExistingNode[] {
  const node = (name: string, type: 'c5.large' | 'c5.xlarge', zone: string): ExistingNode => {
    const f = FACTS.get(type)!;
    return {
      node: {
        name,
        labels: { 'topology.kubernetes.io/zone': zone, 'node.kubernetes.io/instance-type': type },
        taints: [],
        allocatable: { cpu: f.vcpus * 1000 - 100, memory: (f.memoryMiB - 512) * MiB, pods: f.maxPods, 'ephemeral-storage': 18 * GiB },
      },
      used: {},
    };
  };
  return [node('ip-192-168-193-194', 'c5.large', zoneA), node('ip-192-168-193-20', 'c5.xlarge', zoneA), node('ip-192-168-195-30', 'c5.large', zoneB)];
}

function nginx(n: number, cpu = '900m', memory = '256Mi', extra = {}) {
  return Array.from({ length: n }, (_, i) => podRequirements(pod(`nginx-${i}`, { cpu, memory }, extra)));
}

describe('fit', () => {
  const labels = { a: 'x', n: '5' };
  it.each([
    ['In', ['x', 'y'], true],
    ['In', ['y'], false],
    ['NotIn', ['y'], true],
    ['NotIn', ['x'], false],
    ['Exists', [], true],
    ['DoesNotExist', [], false],
  ] as const)('%s %j on a=x → %s', (operator, values, ok) => {
    expect(matchRequirement({ key: 'a', operator, values: [...values] }, labels)).toBe(ok);
  });
  it('NotIn and DoesNotExist match an absent label; Gt / Lt compare integers', () => {
    expect(matchRequirement({ key: 'missing', operator: 'NotIn', values: ['x'] }, labels)).toBe(true);
    expect(matchRequirement({ key: 'missing', operator: 'DoesNotExist' }, labels)).toBe(true);
    expect(matchRequirement({ key: 'n', operator: 'Gt', values: ['4'] }, labels)).toBe(true);
    expect(matchRequirement({ key: 'n', operator: 'Gt', values: ['5'] }, labels)).toBe(false);
    expect(matchRequirement({ key: 'n', operator: 'Lt', values: ['6'] }, labels)).toBe(true);
    expect(matchRequirement({ key: 'a', operator: 'Lt', values: ['6'] }, labels)).toBe(false);
    expect(matchRequirement({ key: 'missing', operator: 'Gt', values: ['1'] }, labels)).toBe(false);
  });

  const t = template({ zones: [zoneA], asgTags: { 'k8s.io/cluster-autoscaler/node-template/taint/dedicated': 'batch:NoSchedule' } });
  it('nodeSelector, required node affinity (terms ORed), taints and tolerations', () => {
    const tol = { tolerations: [{ key: 'dedicated', operator: 'Equal' as const, value: 'batch', effect: 'NoSchedule' as const }] };
    expect(placementMismatch(podRequirements(pod('p', { cpu: '1' })), t)).toMatch(/untolerated taint dedicated=batch:NoSchedule/);
    expect(placementMismatch(podRequirements(pod('p', { cpu: '1' }, tol)), t)).toBeUndefined();
    expect(placementMismatch(podRequirements(pod('p', { cpu: '1' }, { tolerations: [{ operator: 'Exists' }] })), t)).toBeUndefined();
    expect(placementMismatch(podRequirements(pod('p', {}, { ...tol, nodeSelector: { 'node.kubernetes.io/instance-type': 'c5.xlarge' } })), t)).toMatch(/node selector/);
    const affinity = (operator: 'In' | 'NotIn', values: string[]) => ({
      ...tol,
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In' as const, values: ['arm64'] }] }, { matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator, values }] }],
          },
        },
      },
    });
    expect(placementMismatch(podRequirements(pod('p', {}, affinity('In', [zoneA]))), t)).toBeUndefined();
    expect(placementMismatch(podRequirements(pod('p', {}, affinity('NotIn', [zoneA]))), t)).toMatch(/node affinity/);
  });

  it('a zone constraint on a multi-AZ template must hold in every zone the group may launch in', () => {
    const multi = template();
    const volumeInA = { nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In' as const, values: [zoneA] }] }] };
    const p = podRequirements(pod('p', { cpu: '1' }), [volumeInA]);
    expect(placementMismatch(p, multi)).toMatch(/bound volume/);
    expect(placementMismatch(p, template({ zones: [zoneA] }))).toBeUndefined();
    expect(placementMismatch(p, template({ zones: [zoneB] }))).toMatch(/bound volume/);
  });

  it('resources: cpu, memory, ephemeral storage, pods and extended resources', () => {
    const n: NodeShape = template();
    expect(fitMismatch(podRequirements(pod('p', { cpu: '2' })), n)).toMatch(/insufficient cpu \(pod requests 2, a new node has 1900m/);
    expect(fitMismatch(podRequirements(pod('p', { memory: '4Gi' })), n)).toMatch(/insufficient memory/);
    expect(fitMismatch(podRequirements(pod('p', { 'ephemeral-storage': '19Gi' })), n)).toMatch(/insufficient ephemeral-storage/);
    expect(fitMismatch(podRequirements(pod('p', { 'nvidia.com/gpu': '1' })), n)).toMatch(/insufficient nvidia.com\/gpu/);
    expect(fitMismatch(podRequirements(pod('p', { cpu: '1900m', memory: '3584Mi' })), n)).toBeUndefined();
  });

  it('requests: containers summed, init containers at their peak, sidecars alongside, overhead added', () => {
    const r = specRequests({
      initContainers: [
        { name: 'c', resources: { requests: { cpu: '2' } } },
        { name: 's', restartPolicy: 'Always', resources: { requests: { cpu: '100m', memory: '64Mi' } } },
      ],
      containers: [{ name: 'c', resources: { requests: { cpu: '500m', memory: '1Gi' } } }, { name: 'c', resources: { requests: { cpu: '250m' } } }],
      overhead: { cpu: '10m' },
    });
    expect(r).toEqual({ cpu: 2010, memory: 1024 * MiB + 64 * MiB + 0, pods: 1 });
  });

  it('recognises pods the scheduler marked unschedulable', () => {
    expect(isUnschedulable(pod('p', {}))).toBe(true);
    expect(isUnschedulable({ ...pod('p', {}), status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] } })).toBe(false);
    expect(isUnschedulable({ ...pod('p', {}), spec: { containers: [], nodeName: 'n1' } })).toBe(false);
  });
});

describe('scale-up planner', () => {
  it('the article: a Deployment needing more CPU than the three nodes → exactly the packed number of c5.large nodes', () => {
    // 16 replicas × 900m: the three nodes hold 2 + 4 + 2 = 8; the other 8 need 8 / 2 = 4 c5.large nodes.
    const r = planScaleUp({ pods: nginx(16), nodes: testbedNodes(), groups: [group('int32bit-kubernetes-nodes', template())] });
    expect(r.onExisting).toHaveLength(8);
    expect(r.scaleUps).toEqual([expect.objectContaining({ group: 'int32bit-kubernetes-nodes', from: 0, to: 4, instanceType: 'c5.large' })]);
    expect(r.scaleUps[0]!.pods).toHaveLength(8);
    expect(r.unhelpable).toEqual([]);
  });

  it('packs first-fit decreasing: big pods first, small ones fill the gaps', () => {
    // 3 × 1200m + 3 × 600m on 1900m nodes: FFD → 3 nodes (1200+600 each), not 4.
    const pods = [...nginx(3, '600m').map((p, i) => ({ ...p, key: `s${i}` })), ...nginx(3, '1200m').map((p, i) => ({ ...p, key: `b${i}` }))];
    const r = planScaleUp({ pods, groups: [group('g', template())] });
    expect(r.scaleUps[0]!.to).toBe(3);
  });

  it('nodes already requested (upcoming) are capacity: the same pods never scale twice', () => {
    const first = planScaleUp({ pods: nginx(16), nodes: testbedNodes(), groups: [group('g', template())] });
    expect(first.scaleUps[0]!.to).toBe(4);
    const again = planScaleUp({ pods: nginx(16), nodes: testbedNodes(), groups: [group('g', template(), { desired: 4, upcoming: 4 })] });
    expect(again.scaleUps).toEqual([]);
    expect(again.onUpcoming.g).toHaveLength(8);
    // two more pods while the four boot: one more node
    const more = planScaleUp({ pods: nginx(18), nodes: testbedNodes(), groups: [group('g', template(), { desired: 4, upcoming: 4 })] });
    expect(more.scaleUps).toEqual([expect.objectContaining({ from: 4, to: 5 })]);
  });

  it('respects the group max and the cluster-wide cap, and says so', () => {
    const r = planScaleUp({ pods: nginx(10), groups: [group('g', template(), { max: 2 })] });
    expect(r.scaleUps[0]!.to).toBe(2);
    expect(r.unhelpable).toHaveLength(6);
    expect(r.unhelpable[0]!.reasons.g).toBe('max size 2 reached');
    const capped = planScaleUp({ pods: nginx(10), groups: [group('g', template())], maxNodesTotal: 6, currentNodes: 3 });
    expect(capped.scaleUps[0]!.to).toBe(3);
    expect(capped.unhelpable[0]!.reasons.g).toMatch(/cluster-wide node cap 6/);
  });

  it('spills over to a second group when the first reaches its max', () => {
    const r = planScaleUp({ pods: nginx(10), groups: [group('large', template(), { max: 2 }), group('xlarge', template({ types: ['c5.xlarge'], group: 'xlarge' }))] });
    const by = Object.fromEntries(r.scaleUps.map((s) => [s.group, s.to]));
    expect(by).toEqual({ large: 2, xlarge: 2 });
    expect(r.unhelpable).toEqual([]);
  });

  it('a nodeSelector only one of two groups satisfies picks that group', () => {
    const gpu = template({ group: 'gpu', types: ['p3.2xlarge'], asgTags: { 'k8s.io/cluster-autoscaler/node-template/label/workload': 'gpu' } });
    const pods = nginx(3, '1', '1Gi', { nodeSelector: { workload: 'gpu' } });
    const r = planScaleUp({ pods, groups: [group('general', template()), group('gpu', gpu)] });
    expect(r.scaleUps).toEqual([expect.objectContaining({ group: 'gpu', to: 1 })]);
  });

  it('scale-from-zero with a tainted template: only tolerating pods use it', () => {
    const tainted = template({ group: 'batch', asgTags: { 'k8s.io/cluster-autoscaler/node-template/taint/dedicated': 'batch:NoSchedule', 'k8s.io/cluster-autoscaler/node-template/label/pool': 'batch' } });
    const plain = nginx(2);
    const r = planScaleUp({ pods: plain, groups: [group('batch', tainted)] });
    expect(r.scaleUps).toEqual([]);
    expect(r.unhelpable[0]!.reasons.batch).toMatch(/untolerated taint dedicated=batch:NoSchedule/);
    const tolerating = nginx(2, '900m', '256Mi', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'batch', effect: 'NoSchedule' }], nodeSelector: { pool: 'batch' } });
    expect(planScaleUp({ pods: tolerating, groups: [group('batch', tainted)] }).scaleUps[0]!.to).toBe(1);
  });

  it('a pod no group can ever fit gets every group’s reason', () => {
    const r = planScaleUp({ pods: nginx(1, '16'), groups: [group('large', template()), group('xl', template({ types: ['c5.xlarge'] }))] });
    expect(r.scaleUps).toEqual([]);
    expect(formatReasons(r.unhelpable[0]!.reasons)).toMatch(/^large: insufficient cpu .*; xl: insufficient cpu/);
  });

  it('blocked groups (backoff, bad input) are skipped and their upcoming nodes are not counted', () => {
    const r = planScaleUp({
      pods: nginx(2),
      groups: [group('a', template(), { blocked: 'backing off until 12:00 after a provision timeout', upcoming: 3, desired: 3 }), group('b', template())],
    });
    expect(r.onUpcoming).toEqual({});
    expect(r.scaleUps).toEqual([expect.objectContaining({ group: 'b', to: 1 })]);
  });

  it('expanders: least-waste by default, priority, random', () => {
    const large = group('large', template(), { priority: 1 });
    const xlarge = group('xlarge', template({ types: ['c5.xlarge'] }), { priority: 10 });
    // two 900m pods: one c5.large wastes 100m of 1900m, one c5.xlarge 2100m of 3900m
    expect(planScaleUp({ pods: nginx(2), groups: [xlarge, large] }).scaleUps[0]!.group).toBe('large');
    expect(planScaleUp({ pods: nginx(2), groups: [xlarge, large], expander: 'priority' }).scaleUps[0]!.group).toBe('xlarge');
    expect(planScaleUp({ pods: nginx(2), groups: [xlarge, large], expander: 'random', random: () => 0.99 }).scaleUps[0]!.group).toBe('xlarge');
    expect(planScaleUp({ pods: nginx(2), groups: [xlarge, large], expander: 'random', random: () => 0 }).scaleUps[0]!.group).toBe('large');
    const o = { group: 'g', priority: 0, nodes: 1, pods: ['a'], allocatable: { cpu: 1000, memory: 1000 }, requested: { cpu: 500, memory: 250 } };
    expect(waste(o)).toBeCloseTo(1.25);
    expect(expand('least-waste', [])).toBeUndefined();
  });

  it('pods that fit existing free capacity are left to the scheduler', () => {
    const nodes = testbedNodes();
    const r = planScaleUp({ pods: nginx(3, '500m'), nodes, groups: [group('g', template())] });
    expect(r.onExisting).toHaveLength(3);
    expect(r.scaleUps).toEqual([]);
  });
});
