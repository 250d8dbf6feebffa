import { describe, expect, it } from 'vitest';
import { BinSet } from '../../src/plan/bins.ts';
import { podRequirements } from '../../src/plan/pod.ts';
import { planScaleUp, type ExistingNode, type PlanGroup, type PlanInput } from '../../src/plan/planner.ts';
import type { ExpanderName } from '../../src/plan/expander.ts';
import { GiB, MiB, pod, template } from './fixtures.ts';
import { referencePlanScaleUp } from './reference-planner.ts';

/** A small seeded generator (mulberry32), so a failing case can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TYPES = ['c5.large', 'c5.xlarge', 'c5.2xlarge', 'p3.2xlarge'] as const;
const ZONES = ['cn-northwest-1a', 'cn-northwest-1b'];

function randomInput(seed: number): PlanInput {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const groups: PlanGroup[] = Array.from({ length: 1 + Math.floor(r() * 6) }, (_, i) => {
    const asgTags: Record<string, string> = {};
    if (r() < 0.3) asgTags['k8s.io/cluster-autoscaler/node-template/label/pool'] = pick(['a', 'b']);
    if (r() < 0.2) asgTags['k8s.io/cluster-autoscaler/node-template/taint/dedicated'] = 'batch:NoSchedule';
    if (r() < 0.15) asgTags['k8s.io/cluster-autoscaler/node-template/resources/example.com/dongle'] = String(1 + Math.floor(r() * 4));
    const t = template({ group: `g${i}`, types: [pick(TYPES)], zones: r() < 0.5 ? [pick(ZONES)] : ZONES, asgTags });
    const desired = Math.floor(r() * 3);
    return { name: `g${i}`, template: t, blocked: r() < 0.1 ? 'backing off' : undefined, desired, max: desired + Math.floor(r() * 40), upcoming: r() < 0.3 ? Math.floor(r() * 4) : 0, priority: Math.floor(r() * 3) };
  });
  const nodes: ExistingNode[] = Array.from({ length: Math.floor(r() * 12) }, (_, i) => ({
    node: { name: `n${i}`, labels: { 'topology.kubernetes.io/zone': pick(ZONES), ...(r() < 0.3 ? { pool: pick(['a', 'b']) } : {}) }, taints: [], allocatable: { cpu: 1900 + Math.floor(r() * 2) * 2000, memory: 3584 * MiB, pods: 29, 'ephemeral-storage': 18 * GiB } },
    used: { cpu: Math.floor(r() * 1800), memory: Math.floor(r() * 3000) * MiB, pods: Math.floor(r() * 20) },
  }));
  const shapes = Array.from({ length: 1 + Math.floor(r() * 15) }, () => {
    const spec: Record<string, unknown> = {};
    if (r() < 0.25) spec.nodeSelector = { pool: pick(['a', 'b']) };
    if (r() < 0.2) spec.tolerations = [{ key: 'dedicated', operator: 'Equal', value: 'batch', effect: 'NoSchedule' }];
    if (r() < 0.15) spec.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: [pick(ZONES)] }] }] } } };
    const req: Record<string, string> = { cpu: `${50 + Math.floor(r() * 40) * 50}m`, memory: `${64 + Math.floor(r() * 60) * 64}Mi` };
    if (r() < 0.1) req['example.com/dongle'] = '1';
    return { req, spec };
  });
  const pods = Array.from({ length: Math.floor(r() * 400) }, (_, i) => {
    const s = pick(shapes);
    return podRequirements(pod(`p${i}`, s.req, s.spec));
  });
  const expander = pick<ExpanderName>(['least-waste', 'least-waste', 'priority', 'random']);
  const pickRandom = rng(seed + 1);
  return { pods, groups, nodes, expander, random: pickRandom, maxNodesTotal: r() < 0.2 ? Math.floor(r() * 30) : 0, currentNodes: nodes.length };
}

describe('the counting planner makes the pod-by-pod planner’s plans', () => {
  it('on 300 random clusters (groups, taints, selectors, extended resources, upcoming nodes, caps, every expander)', () => {
    let scaled = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const input = randomInput(seed);
      const want = referencePlanScaleUp({ ...input, random: rng(seed + 1) });
      const got = planScaleUp({ ...input, random: rng(seed + 1) });
      expect(got, `seed ${seed}`).toEqual(want);
      if (got.scaleUps.length) scaled++;
    }
    // the generator must exercise scale-ups, not only pods that fit or fit nowhere
    expect(scaled).toBeGreaterThan(100);
  });
});

describe('BinSet', () => {
  it('finds the first bin where one more pod fits, at or after an index, as a scan would', () => {
    const r = rng(7);
    const bins = new BinSet(2, 2);
    const frees: number[][] = [];
    for (let i = 0; i < 100; i++) {
      const f = [Math.floor(r() * 10), Math.floor(r() * 10)];
      frees.push(f);
      bins.open(f);
    }
    const need = new Float64Array([3, 5]);
    for (let from = 0; from < 101; from++) {
      const scan = frees.findIndex((f, i) => i >= from && f[0]! >= 3 && f[1]! >= 5);
      expect(bins.firstFit(need, [0, 1], from)).toBe(scan);
    }
    const i = bins.firstFit(need, [0, 1]);
    bins.take(i, need, [0, 1], bins.howMany(i, need, [0, 1]));
    expect(bins.howMany(i, need, [0, 1])).toBe(0);
    expect(bins.firstFit(need, [0, 1])).toBeGreaterThan(i);
  });
});
