import { describe, expect, it } from 'vitest';
import type { V1Pod as Pod } from '@kubernetes/client-node';
import type { ExistingNode } from '../../src/plan/planner.ts';
import { evictionBlocker, planScaleDown, utilization, type ScaleDownGroup, type ScaleDownInput, type ScaleDownNode } from '../../src/plan/scale-down.ts';
import { GiB, MiB } from './fixtures.ts';

const MIN = 60_000;
const NOW = 100 * MIN;
/** A c5.large as the testbed's kubelet publishes it. */
const ALLOC = { cpu: 1900, memory: 3584 * MiB, pods: 29, 'ephemeral-storage': 18 * GiB };

function pod(name: string, cpu: string, over: { annotations?: Record<string, string>; controller?: boolean; daemonSet?: boolean; volumes?: NonNullable<Pod['spec']>['volumes'] } = {}): Pod {
  const kind = over.daemonSet ? 'DaemonSet' : 'ReplicaSet';
  return {
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      ...(over.annotations ? { annotations: over.annotations } : {}),
      ownerReferences: over.controller === false ? [] : [{ apiVersion: 'apps/v1', kind, name: 'owner', uid: 'o', controller: true }],
    },
    spec: { nodeName: 'x', containers: [{ name: 'c', resources: { requests: { cpu, memory: '64Mi' } } }], ...(over.volumes ? { volumes: over.volumes } : {}) },
    status: { phase: 'Running' },
  };
}

function node(name: string, pods: Pod[] = [], over: Partial<ScaleDownNode> = {}): ScaleDownNode {
  return { name, ready: true, scaleDownDisabled: false, allocatable: ALLOC, pods, ...over };
}

function group(nodes: ScaleDownNode[], over: Partial<ScaleDownGroup> = {}): ScaleDownGroup {
  return { name: 'g', enabled: true, desired: nodes.length, min: 0, threshold: 0.5, unneededMs: 10 * MIN, nodes, ...over };
}

/** A schedulable node with `freeCpu` millicores free. */
function room(name: string, freeCpu: number): ExistingNode {
  return { node: { name, labels: {}, taints: [], allocatable: ALLOC }, used: { cpu: ALLOC.cpu - freeCpu } };
}

/** Every node unneeded for long enough already. */
function since(...names: string[]): Map<string, number> {
  return new Map(names.map((n) => [n, NOW - 11 * MIN]));
}

function input(groups: ScaleDownGroup[], over: Partial<ScaleDownInput> = {}): ScaleDownInput {
  return { now: NOW, groups, unneededSince: new Map(), draining: new Map(), lastScaleUpAt: 0, delayAfterAddMs: 10 * MIN, anyUpcoming: false, maxEmptyBulkDelete: 10, schedulable: [], ...over };
}

describe('utilization and blockers', () => {
  it('is the larger of the CPU and memory fractions', () => {
    expect(utilization(ALLOC, [pod('a', '950m')])).toBeCloseTo(0.5);
    expect(utilization(ALLOC, [])).toBe(0);
  });

  it.each([
    ['safe-to-evict=false', pod('p', '1m', { annotations: { 'cluster-autoscaler.kubernetes.io/safe-to-evict': 'false' } }), /annotated .*safe-to-evict=false/],
    ['no controller', pod('p', '1m', { controller: false }), /has no controller/],
    ['emptyDir on disk', pod('p', '1m', { volumes: [{ name: 'scratch', emptyDir: {} }] }), /local storage \(volume scratch\)/],
    ['hostPath', pod('p', '1m', { volumes: [{ name: 'h', hostPath: { path: '/x' } }] }), /local storage \(volume h\)/],
  ])('a pod with %s keeps its node', (_, p, re) => {
    expect(evictionBlocker(p)).toMatch(re);
  });

  it.each([
    ['safe-to-evict=true (even without a controller)', pod('p', '1m', { controller: false, annotations: { 'cluster-autoscaler.kubernetes.io/safe-to-evict': 'true' } })],
    ['an emptyDir in memory', pod('p', '1m', { volumes: [{ name: 'm', emptyDir: { medium: 'Memory' } }] })],
    ['its local volume listed as safe', pod('p', '1m', { annotations: { 'cluster-autoscaler.kubernetes.io/safe-to-evict-local-volumes': 'a, scratch' }, volumes: [{ name: 'scratch', emptyDir: {} }] })],
  ])('a pod with %s may be evicted', (_, p) => {
    expect(evictionBlocker(p)).toBeUndefined();
  });
});

describe('planScaleDown', () => {
  it('starts the unneeded clock, and removes nothing before the unneeded time', () => {
    const plan = planScaleDown(input([group([node('n1'), node('n2', [pod('busy', '1500m')])])]));
    expect([...plan.unneededSince]).toEqual([['n1', NOW]]);
    expect(plan.empty).toEqual([]);
    expect(plan.drain).toBeUndefined();
  });

  it('keeps the time a node became unneeded; forgets it once the node is used again, opted out, or gone', () => {
    const prev = new Map([['n1', NOW - MIN], ['n2', NOW - MIN], ['n3', NOW - MIN], ['gone', NOW - MIN]]);
    const g = group([node('n1'), node('n2', [pod('busy', '1500m')]), node('n3', [], { scaleDownDisabled: true })]);
    expect([...planScaleDown(input([g], { unneededSince: prev })).unneededSince]).toEqual([['n1', NOW - MIN]]);
  });

  it('keeps the clock of a node that is not Ready or draining, but does not act on it', () => {
    const prev = since('n1', 'n2');
    const plan = planScaleDown(input([group([node('n1', [], { ready: false }), node('n2')])], { unneededSince: prev, draining: new Map([['n2', 'g']]) }));
    expect([...plan.unneededSince.keys()].sort()).toEqual(['n1', 'n2']);
    expect(plan.empty).toEqual([]);
  });

  it('removes empty nodes in bulk, up to --max-empty-bulk-delete; DaemonSet and mirror pods do not count', () => {
    const ds = pod('ds', '100m', { daemonSet: true });
    const mirror = pod('static', '1m', { controller: false, annotations: { 'kubernetes.io/config.mirror': 'x' } });
    const g = group([node('n1', [ds]), node('n2', [mirror]), node('n3'), node('n4')]);
    const plan = planScaleDown(input([g], { unneededSince: since('n1', 'n2', 'n3', 'n4'), maxEmptyBulkDelete: 3 }));
    expect(plan.empty.map((e) => e.node)).toEqual(['n1', 'n2', 'n3']);
    expect(plan.empty.every((e) => e.pods.length === 0)).toBe(true);
  });

  it('respects the group min, counting drains in flight', () => {
    const g = group([node('n1'), node('n2'), node('n3'), node('n4')], { desired: 4, min: 2 });
    expect(planScaleDown(input([g], { unneededSince: since('n1', 'n2', 'n3', 'n4') })).empty.map((e) => e.node)).toEqual(['n1', 'n2']);
    const drainingOne = planScaleDown(input([g], { unneededSince: since('n1', 'n2', 'n3', 'n4'), draining: new Map([['n1', 'g']]) }));
    expect(drainingOne.empty.map((e) => e.node)).toEqual(['n2']);
    expect(planScaleDown(input([group([node('n1')], { desired: 1, min: 1 })], { unneededSince: since('n1') })).empty).toEqual([]);
  });

  it('waits --scale-down-delay-after-add after any scale-up, and while any group waits for nodes', () => {
    const g = group([node('n1')]);
    expect(planScaleDown(input([g], { unneededSince: since('n1'), lastScaleUpAt: NOW - 5 * MIN })).empty).toEqual([]);
    expect(planScaleDown(input([g], { unneededSince: since('n1'), lastScaleUpAt: NOW - 10 * MIN })).empty).toHaveLength(1);
    expect(planScaleDown(input([g], { unneededSince: since('n1'), anyUpcoming: true })).empty).toEqual([]);
  });

  it('uses the group threshold and unneeded time', () => {
    const n = node('n1', [pod('p', '1200m')]);
    const prev = new Map([['n1', NOW - 2 * MIN]]);
    const rooms = [room('other', 1900)];
    expect(planScaleDown(input([group([n])], { unneededSince: prev, schedulable: rooms })).unneededSince.has('n1')).toBe(false);
    const lax = group([n], { threshold: 0.7, unneededMs: MIN });
    expect(planScaleDown(input([lax], { unneededSince: prev, schedulable: rooms })).drain?.node).toBe('n1');
  });

  it('skips a disabled group and forgets its nodes', () => {
    const plan = planScaleDown(input([group([node('n1')], { enabled: false })], { unneededSince: since('n1') }));
    expect(plan.empty).toEqual([]);
    expect(plan.unneededSince.size).toBe(0);
  });

  it('drains one underused node whose pods fit elsewhere, its pods listed for eviction', () => {
    const p = [pod('a', '400m'), pod('b', '400m')];
    const g = group([node('n1', p), node('n2', [pod('c', '400m')])]);
    const plan = planScaleDown(input([g], { unneededSince: since('n1', 'n2'), schedulable: [room('n1', 1100), room('n2', 1500), room('big', 900)] }));
    expect(plan.drain).toEqual({ group: 'g', node: 'n1', pods: p });
  });

  it('does not drain a node whose pods fit nowhere else (itself and the empty nodes chosen excluded)', () => {
    const g = group([node('e1'), node('n1', [pod('a', '800m')])]);
    const plan = planScaleDown(input([g], { unneededSince: since('e1', 'n1'), schedulable: [room('e1', 1900), room('n1', 1100), room('tight', 500)] }));
    expect(plan.empty.map((e) => e.node)).toEqual(['e1']);
    expect(plan.drain).toBeUndefined();
  });

  it('drains no non-empty node while another drain is in flight', () => {
    const g = group([node('n1', [pod('a', '100m')]), node('n2', [pod('b', '100m')])], { desired: 5 });
    const plan = planScaleDown(input([g], { unneededSince: since('n1', 'n2'), draining: new Map([['x', 'other']]), schedulable: [room('spare', 1900)] }));
    expect(plan.drain).toBeUndefined();
  });

  it('keeps a node a pod blocks and says why; PDBs are not part of the decision (the Eviction API enforces them while draining)', () => {
    const g = group([node('n1', [pod('solo', '100m', { controller: false })])]);
    const plan = planScaleDown(input([g], { unneededSince: since('n1'), schedulable: [room('spare', 1900)] }));
    expect(plan.drain).toBeUndefined();
    expect(plan.blocked).toEqual([{ node: 'n1', reason: 'pod default/solo has no controller (it would not come back)' }]);
  });
});
