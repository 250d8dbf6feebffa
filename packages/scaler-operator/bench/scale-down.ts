// The scale-down decision alone (planScaleDown, pure): 1,000 nodes in 10 groups with 10,000 pods,
// every node unneeded long enough, in three shapes of cluster. p50/p99 over repeated decisions, one
// process per scenario so peak RSS is its own.
//   npm run bench -w @kube-iaas/scaler-operator
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { V1Pod as Pod } from '@kubernetes/client-node';
import type { ExistingNode } from '../src/plan/planner.ts';
import { planScaleDown, type ScaleDownGroup, type ScaleDownInput } from '../src/plan/scale-down.ts';

const NODES = 1000;
const PODS_PER_NODE = 10;
const ALLOC = { cpu: 3900, memory: 7680 * 2 ** 20, pods: 58 };

type Shape = 'busy' | 'fits' | 'fits-nowhere';

function pod(node: number, i: number, cpuMilli: number, shape: Shape): Pod {
  const spec: NonNullable<Pod['spec']> = {
    nodeName: `n${node}`,
    containers: [{ name: 'c', resources: { requests: { cpu: `${cpuMilli}m`, memory: '128Mi' } } }],
  };
  // pinned to its own node: the fit check must scan every other node and fail
  if (shape === 'fits-nowhere') spec.nodeSelector = { 'kubernetes.io/hostname': `n${node}` };
  return {
    metadata: { name: `p${node}-${i}`, namespace: `ns${i % 7}`, uid: `u${node}-${i}`, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `rs${i}`, uid: `rs${i}`, controller: true }] },
    spec,
    status: { phase: 'Running' },
  };
}

function scenario(shape: Shape): ScaleDownInput {
  // busy: 10 × 300m = 77 % of 3900m; otherwise 10 × 100m = 26 %
  const cpu = shape === 'busy' ? 300 : 100;
  const now = 1_000_000_000;
  const unneededSince = new Map<string, number>();
  const schedulable: ExistingNode[] = [];
  const groups: ScaleDownGroup[] = Array.from({ length: 10 }, (_, g) => ({
    name: `g${g}`,
    enabled: true,
    desired: NODES / 10,
    min: 0,
    threshold: 0.5,
    unneededMs: 600_000,
    nodes: Array.from({ length: NODES / 10 }, (_, k) => {
      const i = g * (NODES / 10) + k;
      const name = `n${i}`;
      unneededSince.set(name, now - 3_600_000);
      schedulable.push({ node: { name, labels: { 'kubernetes.io/hostname': name }, taints: [], allocatable: ALLOC }, used: { cpu: cpu * PODS_PER_NODE, memory: PODS_PER_NODE * 128 * 2 ** 20, pods: PODS_PER_NODE } });
      return { name, ready: true, scaleDownDisabled: false, allocatable: ALLOC, pods: Array.from({ length: PODS_PER_NODE }, (_, j) => pod(i, j, cpu, shape)) };
    }),
  }));
  return { now, groups, unneededSince, draining: new Map(), lastScaleUpAt: 0, delayAfterAddMs: 600_000, anyUpcoming: false, maxEmptyBulkDelete: 10, schedulable };
}

function child(shape: Shape, runs: number): void {
  const input = scenario(shape);
  const cold0 = performance.now();
  let plan = planScaleDown(input);
  const coldMs = performance.now() - cold0;
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    plan = planScaleDown(input);
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  const q = (p: number) => ms[Math.min(ms.length - 1, Math.floor((p / 100) * ms.length))]!;
  process.stdout.write(JSON.stringify({ coldMs, p50: q(50), p99: q(99), rssMiB: process.resourceUsage().maxRSS / 1024, drain: plan.drain?.node ?? null, empty: plan.empty.length }));
}

const [mode, a, b] = process.argv.slice(2);
if (mode === '--child') {
  child(a as Shape, Number(b));
} else {
  const self = fileURLToPath(import.meta.url);
  const rows: string[] = [];
  for (const [shape, runs, label] of [
    ['busy', 200, 'every node above the threshold'],
    ['fits', 200, 'underused, the first node’s pods fit elsewhere'],
    ['fits-nowhere', 20, 'underused, no node’s pods fit elsewhere (worst case: a fit check per node)'],
  ] as const) {
    const r = spawnSync(process.execPath, [self, '--child', shape, String(runs)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    const x = JSON.parse(r.stdout) as { coldMs: number; p50: number; p99: number; rssMiB: number; drain: string | null; empty: number };
    rows.push(`| ${NODES.toLocaleString('en')} | ${(NODES * PODS_PER_NODE).toLocaleString('en')} | ${label} | ${runs} | ${x.coldMs.toFixed(1)} ms | ${x.p50.toFixed(1)} ms | ${x.p99.toFixed(1)} ms | ${x.rssMiB.toFixed(0)} MiB | ${x.drain ? `drain ${x.drain}` : 'no drain'} |`);
  }
  console.log(`machine: ${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);
  console.log('| nodes | pods | cluster | decisions | first (cold JIT) | p50 | p99 | peak RSS | plan |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
}
