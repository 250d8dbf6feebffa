// End to end on the testbed: a Deployment of 1,000 replicas that only a new group's nodes can hold
// (nodeSelector pool=bench, a label the group's node-template tag promises). The real ReplicaSet
// controller creates the pods, the real scheduler marks them unschedulable, the operator (its entry
// point as a child process, default batching) calls SetDesiredCapacity, moto launches, the node
// simulator registers the nodes with the template's label, the scheduler binds every pod.
// The group's nodes are held back (the simulator's join-delay tag) until every pod has been marked
// unschedulable and the operator has asked for all nodes; otherwise nodes that join early take the
// later pods before the scheduler ever marks them. Then the tag goes and the nodes join.
// Measured: from pods marked unschedulable to the SetDesiredCapacity call(s) (read from the operator's
// log), calls and their sizes, time from the nodes joining to all pods running, the operator's peak RSS.
//   npm run bench -w @kube-iaas/scaler-operator          (BENCH_PODS=300 for a quicker run; BENCH_RUNNING=0
//   stops after the scale-up, without letting the nodes join — the simulator's part, minutes on a loaded machine)
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { DeleteTagsCommand } from '@aws-sdk/client-auto-scaling';
import { Watch } from '@kubernetes/client-node';
import { KUBELET_RESERVED, up } from '@kube-iaas/testbed';
import { OperatorProcess, testbedKubeConfig, waitFor } from '@kube-iaas/testbed/testing';
import type { NodeGroup } from '@kube-iaas/crds';
import type { KubeObject } from '@kube-iaas/core/runtime';
import { asgOf, autoscalerDiscoveryTags, clients, createNamespace, createTestAsg, deleteNamespace, deleteTestAsg, deployment, DEPLOYMENT, JOIN_DELAY_TAG, NAMESPACE, NG, nodeTemplateTags, NODE, POD } from '../test/integration/helpers.ts';

const PODS = Number(process.env.BENCH_PODS ?? 1000);
const NS = 'scaler-bench';
const GROUP = 'scaler-bench';
const CPU = '100m';
const MEMORY = '64Mi';

await up(() => undefined);
const { kube, asg, ec2 } = clients();
const cluster = process.env.CLUSTER_NAME ?? 'int32bit-kubernetes';
const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));

function peakRssMiB(pid: number | undefined): number {
  if (!pid) return 0;
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m?.[1] ? Math.round(Number(m[1]) / 1024) : 0;
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : 0;
};
const sec = (ms: number) => Math.round(ms / 100) / 10;

// leftovers of an interrupted run
await deleteNamespace(kube, NS);
await waitFor(`namespace ${NS} gone`, async () => !(await kube.get(NAMESPACE, NS)), 180_000, 500);
await deleteTestAsg(asg, ec2, kube, GROUP);
await waitFor('testbed nodes only', async () => (await kube.list(NODE)).items.length === 3, 120_000);

// c5.large: 1900m allocatable → 19 pods of 100m each (29 max-pods): ceil(PODS / 19) nodes
const expectedNodes = Math.ceil(PODS / 19);
await createTestAsg(asg, ec2, {
  name: GROUP,
  instanceType: 'c5.large',
  zones: 'both',
  max: Math.max(expectedNodes + 5, 10),
  tags: { ...autoscalerDiscoveryTags(cluster), ...nodeTemplateTags({ labels: { pool: 'bench' } }), [JOIN_DELAY_TAG]: '3600' },
});
await createNamespace(kube, NS);

const op = await OperatorProcess.start(main, [
  '--no-leader-elect',
  '--no-scale-down-enabled',
  `--reserved-cpu=${KUBELET_RESERVED.cpuMillis}m`,
  `--reserved-memory=${KUBELET_RESERVED.memoryMiB}Mi`,
  `--reserved-ephemeral-storage=${KUBELET_RESERVED.ephemeralGiB}Gi`,
]);
await waitFor('NodeGroup discovered', async () => (await kube.get<NodeGroup>(NG, GROUP))?.status?.nodeTemplate);
// an error below must not leave the operator running against the testbed
process.on('exit', () => op.child.kill('SIGKILL'));
const rssBefore = peakRssMiB(op.child.pid);

// When this process first saw each pod marked unschedulable (same clock as the operator's log).
const marked = new Map<string, number>();
const running = new Set<string>();
type BenchPod = { metadata?: { name?: string; resourceVersion?: string }; status?: { phase?: string; conditions?: { type?: string; status?: string; reason?: string; lastTransitionTime?: string | Date }[] } };
const isMarked = (pod: BenchPod) => pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable');
// A watch the API server (or a loaded machine) closes is resumed from the last resourceVersion seen.
let lastRv: string | undefined;
let stopped = false;
let watch: { abort: () => void } | undefined;
async function watchPods(): Promise<void> {
  watch = await new Watch(testbedKubeConfig()).watch(
    `/api/v1/namespaces/${NS}/pods`,
    lastRv ? { resourceVersion: lastRv, allowWatchBookmarks: true } : { allowWatchBookmarks: true },
    (_type: string, pod: BenchPod) => {
      lastRv = pod.metadata?.resourceVersion ?? lastRv;
      const name = pod.metadata?.name ?? '';
      if (!name) return;
      if (!marked.has(name) && isMarked(pod)) marked.set(name, Date.now());
      if (pod.status?.phase === 'Running') running.add(name);
    },
    () => {
      watchRestarts++;
      if (!stopped) void watchPods().catch(() => undefined);
    },
  );
}
let watchRestarts = 0;
// Pods the watch missed anyway (it restarts after a gap) get the API server's mark time (whole seconds).
let fromList = 0;
async function fillFromList(): Promise<void> {
  for (const pod of (await kube.list<BenchPod & KubeObject>(POD, { namespace: NS })).items) {
    const c = isMarked(pod);
    const name = pod.metadata?.name ?? '';
    if (c && !marked.has(name) && c.lastTransitionTime) {
      marked.set(name, new Date(c.lastTransitionTime).getTime());
      fromList++;
    }
  }
}
await watchPods();

const created = Date.now();
await kube.create(DEPLOYMENT, deployment(NS, 'bench', PODS, CPU, MEMORY, { nodeSelector: { pool: 'bench' } }));
let lastFill = Date.now();
await waitFor(`${PODS} pods marked unschedulable`, async () => {
  if (marked.size < PODS && Date.now() - lastFill > 15_000) {
    await fillFromList();
    lastFill = Date.now();
  }
  return marked.size >= PODS;
}, 900_000, 100);
const allMarked = Date.now();
// the last batch closes at most --batch-max (10 s) after its first pod; then the desired capacity holds
let last = -1;
let stableSince = Date.now();
await waitFor('desired capacity settled', async () => {
  const d = (await asgOf(asg, GROUP)).DesiredCapacity ?? 0;
  if (d !== last) [last, stableSince] = [d, Date.now()];
  return Date.now() - allMarked > 12_000 && Date.now() - stableSince > 5_000;
}, 120_000, 500);
const released = Date.now();
const waitRunning = process.env.BENCH_RUNNING !== '0';
if (waitRunning) {
  await asg.send(new DeleteTagsCommand({ Tags: [{ ResourceId: GROUP, ResourceType: 'auto-scaling-group', Key: JOIN_DELAY_TAG }] }));
  await waitFor(`${PODS} pods running`, () => running.size >= PODS, 1_200_000, 250);
}
const allRunning = Date.now();
stopped = true;
watch?.abort();
const peakRss = peakRssMiB(op.child.pid);

interface ScaleUp {
  at: number;
  from: number;
  to: number;
  pods: number;
}
const scaleUps: ScaleUp[] = [];
for (const line of op.output) {
  if (!line.startsWith('{')) continue;
  const l = JSON.parse(line) as { msg?: string; time?: string; nodeGroup?: string; from?: number; to?: number; pods?: number };
  if (l.msg === 'scaled up' && l.nodeGroup === GROUP) scaleUps.push({ at: Date.parse(l.time ?? ''), from: l.from ?? 0, to: l.to ?? 0, pods: l.pods ?? 0 });
}
const calls = await op.awsCalls();
await op.stop();
const finalDesired = (await asgOf(asg, GROUP)).DesiredCapacity ?? 0;

// Per pod: from being marked to the first SetDesiredCapacity at or after that moment. Pods marked after
// the last call were placed on capacity already asked for (upcoming nodes: the operator asks for the
// pods a ReplicaSet is about to create) and need no call of their own: 0 s in the all-pods figures.
const marks = [...marked.values()].sort((a, b) => a - b);
const latencies: number[] = [];
const allPods: number[] = [];
let coveredByUpcoming = 0;
for (const t of marks) {
  const next = scaleUps.find((s) => s.at >= t);
  if (next) latencies.push(next.at - t);
  else coveredByUpcoming++;
  allPods.push(next ? next.at - t : 0);
}
const firstMark = marks[0] ?? created;
const lastMark = marks[marks.length - 1] ?? created;
const result = {
  machine: `${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  pods: PODS,
  expectedNodes,
  finalDesired,
  setDesiredCapacityCalls: calls['autoscaling:SetDesiredCapacity:success'] ?? 0,
  scaleUps: scaleUps.map((s) => ({ afterCreateS: sec(s.at - created), from: s.from, to: s.to, pods: s.pods })),
  markedSpanS: sec(lastMark - firstMark),
  createToAllMarkedS: sec(allMarked - created),
  firstMarkToFirstCallS: scaleUps[0] ? sec(scaleUps[0].at - firstMark) : null,
  lastMarkToLastCallS: scaleUps.length ? sec(scaleUps[scaleUps.length - 1]!.at - lastMark) : null,
  markTimes: { watchRestarts, fromListWholeSeconds: fromList },
  podMarkToCallS: { p50: sec(pct(latencies, 50)), p99: sec(pct(latencies, 99)), max: sec(Math.max(0, ...latencies)), pods: latencies.length, coveredByUpcoming },
  allPodsMarkToCoveredS: { p50: sec(pct(allPods, 50)), p99: sec(pct(allPods, 99)), max: sec(Math.max(0, ...allPods)) },
  nodesReleasedToAllRunningS: waitRunning ? sec(allRunning - released) : null,
  operatorPeakRssMiB: peakRss,
  operatorRssBeforeMiB: rssBefore,
  awsCalls: calls,
};
console.log(JSON.stringify(result, null, 2));
writeFileSync(fileURLToPath(new URL(`./e2e-results-${PODS}.json`, import.meta.url)), `${JSON.stringify(result, null, 2)}\n`);

await deleteNamespace(kube, NS);
await deleteTestAsg(asg, ec2, kube, GROUP);
await waitFor('bench nodes gone', async () => (await kube.list(NODE)).items.length === 3, 180_000).catch(() => undefined);
process.exit(0);
