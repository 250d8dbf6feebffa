// Planning for the pods workload controllers declare, against over-scaling: each case plans a
// ReplicaSet's pods (the ones created so far plus the ones it is about to create, `expectedPods`) with
// the planner, and compares the nodes asked for with what packing says for the pods that will exist
// once the controller is done. Time per decision includes building the expected pods.
//   npm run bench -w @kube-iaas/scaler-operator
import { cpus, totalmem } from 'node:os';
import { instanceTypeFactsFromSdk } from '@kube-iaas/core/instance-types';
import { expectedPods, type WorkloadPending } from '../src/plan/expected.ts';
import { podRequirements } from '../src/plan/pod.ts';
import { planScaleUp, type ExistingNode, type PlanGroup, type PlanInput } from '../src/plan/planner.ts';
import { buildNodeTemplate } from '../src/template/build.ts';

const facts = new Map([
  ['c5.large', instanceTypeFactsFromSdk({ InstanceType: 'c5.large', VCpuInfo: { DefaultVCpus: 2 }, MemoryInfo: { SizeInMiB: 4096 }, NetworkInfo: { MaximumNetworkInterfaces: 3, Ipv4AddressesPerInterface: 10 }, Hypervisor: 'nitro' })],
]);
const template = buildNodeTemplate({
  group: 'g',
  region: 'cn-northwest-1',
  zones: ['cn-northwest-1a', 'cn-northwest-1b'],
  launch: { source: 'launch-template', instanceTypes: ['c5.large'] },
  facts,
  asgTags: {},
  reserved: { cpu: 100, memory: 512 * 2 ** 20 },
  defaultEphemeralStorage: 20 * 2 ** 30,
});
const group = (name: string, over: Partial<PlanGroup> = {}): PlanGroup => ({ name, template, desired: 0, max: 1000, upcoming: 0, priority: 0, ...over });
// the e2e bench's pod: 100m, 64Mi → 19 per c5.large
const pod = (name: string) => podRequirements({ metadata: { name, namespace: 'bench' }, spec: { containers: [{ name: 'c', resources: { requests: { cpu: '100m', memory: '64Mi' } } }] } });

function rs(declared: number, created: number, bound = 0): WorkloadPending {
  const unbound = Array.from({ length: created - bound }, (_, i) => pod(`web-${i}`));
  return { key: 'ReplicaSet bench/web', kind: 'ReplicaSet', declared, bound, unbound, sample: unbound[0] ?? pod('web-0') };
}
const asked = (input: PlanInput) => planScaleUp(input).scaleUps.reduce((s, x) => s + x.to - x.from, 0);
const packing = (n: number, input: Omit<PlanInput, 'pods'>) => asked({ ...input, pods: Array.from({ length: n }, (_, i) => pod(`all-${i}`)) });

const freeNodes: ExistingNode[] = Array.from({ length: 20 }, (_, i) => ({
  node: { name: `n${i}`, labels: {}, taints: [], allocatable: { cpu: 1900, memory: 3584 * 2 ** 20, pods: 29 } },
  used: { cpu: 400, memory: 512 * 2 ** 20, pods: 4 },
}));

const cases: { name: string; w: WorkloadPending; input: Omit<PlanInput, 'pods'>; final: number }[] = [
  { name: '1,000 replicas, 40 created so far', w: rs(1000, 40), input: { groups: [group('g')] }, final: 1000 },
  { name: 'scaled 1,000 → 100 before its pods exist (40 created, 0 bound)', w: rs(100, 40), input: { groups: [group('g')] }, final: 100 },
  { name: 'scaled 1,000 → 10 with 40 created: 30 are about to be deleted', w: rs(10, 40), input: { groups: [group('g')] }, final: 10 },
  { name: '300 replicas whose pods fit the free room of 20 nodes (15 each)', w: rs(300, 12), input: { groups: [group('g')], nodes: freeNodes }, final: 300 },
  { name: '1,000 replicas that another group’s 53 upcoming nodes will take', w: rs(1000, 300), input: { groups: [group('a', { desired: 53, upcoming: 53 }), group('b')] }, final: 1000 },
];

console.log(`machine: ${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`);
console.log('| case | pods planned: created + expected | nodes asked | packing of the final pods | decision (best of 5) |');
console.log('| --- | --- | --- | --- | --- |');
for (const c of cases) {
  let ms = Infinity;
  let nodes = 0;
  let planned = '';
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const e = expectedPods(c.w);
    nodes = asked({ ...c.input, pods: e.pods });
    ms = Math.min(ms, performance.now() - t0);
    planned = `${e.pods.length}: ${e.pods.length - e.expected} + ${e.expected}${e.surplus.length ? ` (${e.surplus.length} unbound left out)` : ''}`;
  }
  const want = packing(c.final, c.input);
  if (nodes > want) throw new Error(`${c.name}: ${nodes} nodes asked, packing says ${want}`);
  console.log(`| ${c.name} | ${planned} | ${nodes} | ${want} | ${ms.toFixed(1)} ms |`);
}
