// The scale-up planner alone: N pending pods × 20 groups (+ 100 existing nodes), decision time and
// peak memory. Each scenario runs in its own process so peak RSS is its own.
//   npm run bench -w @kube-iaas/scaler-operator
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { instanceTypeFactsFromSdk } from '@kube-iaas/core/instance-types';
import type { V1Pod as Pod } from '@kubernetes/client-node';
import { planScaleUp, type ExistingNode, type PlanGroup } from '../src/plan/planner.ts';
import { podRequirements } from '../src/plan/pod.ts';
import { buildNodeTemplate } from '../src/template/build.ts';

const TYPES: Record<string, [number, number, number, number]> = {
  'c5.large': [2, 4096, 3, 10],
  'c5.xlarge': [4, 8192, 4, 15],
  'c5.2xlarge': [8, 16384, 4, 15],
  'm5.large': [2, 8192, 3, 10],
  'm5.xlarge': [4, 16384, 4, 15],
  'r5.large': [2, 16384, 3, 10],
};
const facts = new Map(
  Object.entries(TYPES).map(([t, [v, m, e, ip]]) => [
    t,
    instanceTypeFactsFromSdk({ InstanceType: t as never, VCpuInfo: { DefaultVCpus: v }, MemoryInfo: { SizeInMiB: m }, NetworkInfo: { MaximumNetworkInterfaces: e, Ipv4AddressesPerInterface: ip }, Hypervisor: 'nitro' }),
  ]),
);

function groups(): PlanGroup[] {
  const types = Object.keys(TYPES);
  return Array.from({ length: 20 }, (_, i) => {
    const type = types[i % types.length]!;
    const tags: Record<string, string> = {};
    if (i % 5 === 4) tags['k8s.io/cluster-autoscaler/node-template/label/pool'] = `pool-${i % 3}`;
    if (i % 7 === 6) tags['k8s.io/cluster-autoscaler/node-template/taint/dedicated'] = 'batch:NoSchedule';
    const template = buildNodeTemplate({
      group: `g${i}`,
      region: 'cn-northwest-1',
      zones: i % 2 ? ['cn-northwest-1a'] : ['cn-northwest-1a', 'cn-northwest-1b'],
      launch: { source: 'launch-template', instanceTypes: [type] },
      facts,
      asgTags: tags,
      reserved: { cpu: 100, memory: 512 * 2 ** 20 },
      defaultEphemeralStorage: 20 * 2 ** 30,
    });
    return { name: `g${i}`, template, desired: i % 4, max: 1000, upcoming: 0, priority: i % 3 };
  });
}

function pods(n: number, workloads: number): Pod[] {
  return Array.from({ length: n }, (_, i) => {
    const w = workloads > 0 ? i % workloads : i;
    const spec: NonNullable<Pod['spec']> = {
      containers: [{ name: 'c', resources: { requests: { cpu: `${100 + (w % 17) * 50}m`, memory: `${128 + (w % 11) * 64}Mi` } } }],
    };
    if (w % 10 === 3) spec.nodeSelector = { pool: `pool-${w % 3}` };
    if (w % 13 === 5) spec.tolerations = [{ key: 'dedicated', operator: 'Equal', value: 'batch', effect: 'NoSchedule' }];
    return { metadata: { name: `p${i}`, namespace: `ns${w % 7}` }, spec };
  });
}

function existing(): ExistingNode[] {
  return Array.from({ length: 100 }, (_, i) => ({
    node: { name: `n${i}`, labels: { 'topology.kubernetes.io/zone': 'cn-northwest-1a' }, taints: [], allocatable: { cpu: 1900, memory: 3584 * 2 ** 20, pods: 29 } },
    used: { cpu: 1700, memory: 3000 * 2 ** 20, pods: 20 },
  }));
}

function child(n: number, workloads: number): void {
  const heap0 = process.memoryUsage().heapUsed;
  const once = () => {
    const input = pods(n, workloads);
    const g = groups();
    const nodes = existing();
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const reqs = input.map((p) => podRequirements(p));
    const t1 = performance.now();
    const plan = planScaleUp({ pods: reqs, groups: g, nodes });
    const cpu = process.cpuUsage(c0);
    return { plan, ms: performance.now() - t0, extractMs: t1 - t0, cpuMs: (cpu.user + cpu.system) / 1000 };
  };
  const cold = once();
  // the next decisions: the median of five, since the machine is shared
  const next = Array.from({ length: 5 }, once).sort((x, y) => x.ms - y.ms);
  const { plan, ms, extractMs, cpuMs } = next[2]!;
  const minMs = next[0]!.ms;
  const coldMs = cold.ms;
  const nodesAsked = plan.scaleUps.reduce((s, x) => s + x.to - x.from, 0);
  process.stdout.write(JSON.stringify({ ms, minMs, coldMs, cpuMs, coldCpuMs: cold.cpuMs, extractMs, coldExtractMs: cold.extractMs, heapDeltaMiB: (process.memoryUsage().heapUsed - heap0) / 2 ** 20, rssMiB: process.resourceUsage().maxRSS / 1024, heapMiB: process.memoryUsage().heapUsed / 2 ** 20, nodesAsked, groupsUsed: plan.scaleUps.length, unhelpable: plan.unhelpable.length }));
}

const [mode, a, b] = process.argv.slice(2);
if (mode === '--child') {
  child(Number(a), Number(b));
} else {
  const self = fileURLToPath(import.meta.url);
  const rows: string[] = [];
  const load = loadavg().map((x) => x.toFixed(0)).join(' / ');
  for (const [n, workloads, label] of [
    [1000, 50, '50 workloads'],
    [10000, 50, '50 workloads'],
    [1000, 0, 'every pod distinct'],
    [10000, 0, 'every pod distinct'],
  ] as const) {
    const runs = [];
    for (let i = 0; i < 3; i++) {
      const r = spawnSync(process.execPath, [self, '--child', String(n), String(workloads)], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stderr);
      runs.push(JSON.parse(r.stdout) as { ms: number; coldMs: number; cpuMs: number; coldCpuMs: number; heapDeltaMiB: number; rssMiB: number; nodesAsked: number; groupsUsed: number; unhelpable: number });
    }
    const med = [...runs].sort((x, y) => x.ms - y.ms)[1]!;
    const rss = Math.max(...runs.map((r) => r.rssMiB));
    rows.push(`| ${n.toLocaleString('en')} | 20 | ${label} | ${med.coldMs.toFixed(0)} ms (${med.coldCpuMs.toFixed(0)} ms) | ${med.ms.toFixed(0)} ms (${med.cpuMs.toFixed(0)} ms) | ${rss.toFixed(0)} MiB | ${med.nodesAsked} nodes in ${med.groupsUsed} group(s) |`);
  }
  console.log(`machine: ${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; load average ${load} (1 / 5 / 15 min) before the runs`);
  console.log('| pending pods | groups | pod shapes | first decision, cold JIT: wall (CPU) | next decision, median of 5: wall (CPU) | peak RSS (whole process, incl. AWS SDK) | plan |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
}
