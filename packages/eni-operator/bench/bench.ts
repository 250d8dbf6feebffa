// Benchmark on the testbed (a script, not a test). Needs a running testbed (KUBE_IAAS_TESTBED_DIR);
// starts its own operator process per run. Pods are created one after the other on the c5.xlarge
// with spec.nodeName (bound at creation, no scheduler), each waited for before the next.
//
// - operator time: from the operator's informer seeing the pod bound to the annotation patch
//   acknowledged, measured inside the operator (its "addresses handed out" log lines);
// - wall time: from just before the pod is created (= bound) to a watch in this script seeing the
//   annotation;
// - AWS calls by operation per 100 pods, from the operator's /metrics;
// - steady state: calls while nothing changes, and what one resync of every pool costs.
//
// The warm run is made twice: as deployed (leader election on, so the operator is the sole
// allocator and annotates before it records) and with leader election off (record first, then
// annotate — the order that lets several replicas allocate). A table of the runs ends the output.
// BENCH_ONLY_WARM=1 stops after the warm runs; BENCH_WARM_PODS sets their size (default 50).
// The node half (bench/cni.ts, when the simulator wires pods: root), with BENCH_CNI=1 after the annotate-first
// run: pod bound → CNI ADD returned, the plugin's run time, the agent's RSS; BENCH_ONLY_CNI=1 runs the floor
// and that part only, BENCH_CNI_PODS sets its size (default 30). Not yet run (see the README).
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { EniPool } from '@kube-iaas/crds';
import { Informer, resources } from '@kube-iaas/core/runtime';
import { readState } from '@kube-iaas/testbed';
import { ENI_POOL_RESOURCE, IP_ANNOTATION } from '../src/constants.ts';
import { OperatorProcess, clients, leaderArgs, waitFor } from '../test/integration/harness.ts';
import { cniBench } from './cni.ts';

const account = readState()?.account;
if (!account) throw new Error('testbed not running');
const c = clients();
const NS = 'default';
const LABEL = 'eni-bench';
const nodes = (await c.kube.list<V1Node>(resources.Node)).items;
const xlarge = nodes.find((n) => n.spec?.providerID?.endsWith(`/${account.instanceIds[1]}`))!.metadata!.name!;
const pool = () => c.kube.get<EniPool>(ENI_POOL_RESOURCE, xlarge);

// A watch on the bench's pods: when each one's annotation was first seen.
const seen = new Map<string, number>();
const waiters = new Map<string, () => void>();
const watch = new Informer<V1Pod>(c.kube, resources.Pod, { namespace: NS, labelSelector: `app=${LABEL}` });
const created = new Map<string, () => void>();
const look = (p: V1Pod) => {
  const name = p.metadata?.name ?? '';
  created.get(name)?.();
  if (!p.metadata?.annotations?.[IP_ANNOTATION] || seen.has(name)) return;
  seen.set(name, performance.now());
  waiters.get(name)?.();
};
watch.on({ add: look, update: look });
await watch.start();
await watch.waitForSync(30_000);

function calls(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^kube_iaas_aws_api_calls_total\{([^}]*)\} (\d+)/gm)) {
    const op = /operation="([^"]*)"/.exec(m[1] ?? '')?.[1] ?? '?';
    out[op] = (out[op] ?? 0) + Number(m[2]);
  }
  return out;
}
const diff = (a: Record<string, number>, b: Record<string, number>, scale = 1) =>
  Object.fromEntries(Object.entries(b).map(([k, v]) => [k, Math.round((v - (a[k] ?? 0)) * scale * 10) / 10]).filter(([, v]) => Number(v) > 0));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)] ?? NaN;
const stats = (xs: number[]) => ({ n: xs.length, p50: +pct(xs, 50).toFixed(1), p99: +pct(xs, 99).toFixed(1), max: +Math.max(...xs).toFixed(1) });

/** Operator time per pod name, from the operator's log lines. */
type Phases = { queuedMs?: number; statusWriteMs?: number; annotateMs?: number };
function operatorTimes(op: OperatorProcess): Map<string, { ms: number; path: string; ownMs?: number; phases: Phases }> {
  const out = new Map<string, { ms: number; path: string; ownMs?: number; phases: Phases }>();
  for (const line of op.output) {
    if (!line.includes('addresses handed out')) continue;
    const l = JSON.parse(line) as Phases & { served?: string[] };
    for (const s of l.served ?? []) {
      const m = /^[^/]+\/([^=]+)=\S+ ([\d.]+)ms (\w+)(?: own=([\d.]+)ms)?$/.exec(s);
      if (m) out.set(m[1]!, { ms: Number(m[2]), path: m[3]!, ...(m[4] ? { ownMs: Number(m[4]) } : {}), phases: { queuedMs: l.queuedMs, statusWriteMs: l.statusWriteMs, annotateMs: l.annotateMs } });
    }
  }
  return out;
}

async function deleteBenchPods(): Promise<void> {
  for (const p of (await c.kube.list<V1Pod>(resources.Pod, { namespace: NS, labelSelector: `app=${LABEL}` })).items) await c.kube.delete(resources.Pod, { name: p.metadata!.name!, namespace: NS });
  await waitFor('bench pods gone', async () => (await c.kube.list<V1Pod>(resources.Pod, { namespace: NS, labelSelector: `app=${LABEL}` })).items.length === 0, 120_000);
}

/** A bench pod, bound to the c5.xlarge at creation. */
const benchPod = (name: string): V1Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS, labels: { app: LABEL } }, spec: { nodeName: xlarge, containers: [{ name: 'c', image: 'nginx' }], terminationGracePeriodSeconds: 0 } });

async function onePod(name: string): Promise<number> {
  const done = new Promise<void>((r) => waiters.set(name, r));
  const t0 = performance.now();
  await c.kube.create(resources.Pod, benchPod(name));
  await Promise.race([done, new Promise((_, rej) => setTimeout(() => rej(new Error(`${name} not annotated in 60 s`)), 60_000))]);
  waiters.delete(name);
  return seen.get(name)! - t0;
}

const rows: Record<string, string | number>[] = [];
const fmt = (x: { n: number; p50: number; p99: number }) => (x.n ? `${x.p50} / ${x.p99}` : '—');

async function run(label: string, prefix: string, n: number, op: OperatorProcess): Promise<void> {
  const before = calls(await op.metrics());
  const wall: number[] = [];
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = `${LABEL}-${prefix}-${i}`;
    names.push(name);
    wall.push(await onePod(name));
  }
  await new Promise((r) => setTimeout(r, 1_000)); // growth the last pods triggered
  const times = operatorTimes(op);
  const opMs = names.map((x) => times.get(x)?.ms).filter((x): x is number => x !== undefined);
  // Pods that found a free address (path warm) and those that waited for the pool to grow.
  const warmMs = names.filter((x) => times.get(x)?.path === 'warm').map((x) => times.get(x)!.ms);
  const ownWarmMs = names.filter((x) => times.get(x)?.path === 'warm' && times.get(x)?.ownMs !== undefined).map((x) => times.get(x)!.ownMs!);
  const paths = names.reduce<Record<string, number>>((m, x) => ((m[times.get(x)?.path ?? '?'] = (m[times.get(x)?.path ?? '?'] ?? 0) + 1), m), {});
  const phase = (k: keyof Phases) => stats(names.map((x) => times.get(x)?.phases[k]).filter((x): x is number => x !== undefined));
  const phases = { queued: phase('queuedMs'), statusWrite: phase('statusWriteMs'), annotate: phase('annotateMs') };
  console.log(JSON.stringify({ label, pods: n, operatorMs: stats(opMs), phases, operatorPaths: paths, wallMs: stats(wall), awsCallsPer100Pods: diff(before, calls(await op.metrics()), 100 / n) }));
  rows.push({
    run: label,
    'load avg': +os.loadavg()[0]!.toFixed(1),
    pods: n,
    'operator ms p50 / p99': fmt(stats(opMs)),
    'of it, warm path: n, p50 / p99': warmMs.length ? `${warmMs.length}: ${fmt(stats(warmMs))}` : '—',
    'warm path, own (until the patch is sent)': ownWarmMs.length ? fmt(stats(ownWarmMs)) : '—',
    'status write ms': fmt(phases.statusWrite),
    'annotate ms': fmt(phases.annotate),
    'queued ms': fmt(phases.queued),
    'wall ms p50 / p99': fmt(stats(wall)),
  });
}

async function warmPool(): Promise<void> {
  await waitFor('EniPool of the c5.xlarge', () => pool(), 60_000, 200); // a fresh testbed: the operator creates it
  await c.kube.patch(ENI_POOL_RESOURCE, { name: xlarge }, { spec: { warmEni: 1, warmIp: null, minimumIp: null, cooldownSeconds: 1 } });
  await waitFor('warm pool', async () => {
    const s = (await pool())?.status?.summary;
    return s?.free === 14 && s.enis === 1 && s.cooling === 0;
  }, 120_000, 500);
}

console.log(JSON.stringify({ cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, loadavg: os.loadavg().map((x) => +x.toFixed(2)) }));
await deleteBenchPods();
const warmPods = Number(process.env.BENCH_WARM_PODS ?? 50);

let floorPatch = stats([]);

/** The node half, on a warm pool with the operator as deployed; the floor measured above is beside it. */
async function cniPart(op: OperatorProcess): Promise<void> {
  if (process.getuid?.() !== 0) return console.log(JSON.stringify({ label: 'node half skipped: the simulator wires pods only as root' }));
  await warmPool();
  const r = await cniBench(c, xlarge, Number(process.env.BENCH_CNI_PODS ?? 30));
  const times = operatorTimes(op);
  const own = stats(r.names.map((x) => times.get(x)?.ownMs).filter((x): x is number => x !== undefined));
  const toAnn = stats(r.boundToAnnotation);
  const out = {
    'pod bound → CNI ADD returned': fmt(stats(r.boundToAdd)),
    'of it: bound → annotation (bench watch)': fmt(toAnn),
    'annotation → ADD returned': fmt(stats(r.annotationToAdd)),
    'cnitool ADD, wall': fmt(stats(r.cnitool)),
    'plugin ADD, process start → exit': fmt(stats(r.plugin)),
    'operator own share (delivery → patch sent)': `${fmt(own)} (target p99 ≤ 10)`,
    'floor PATCH (same run)': fmt(floorPatch),
    'bound → annotation p99 vs 1.25 × floor PATCH p99': `${toAnn.p99} vs ${+(1.25 * floorPatch.p99).toFixed(1)}`,
    'agent RSS idle / with 110 pods (MiB)': `${r.rssIdle.toFixed(1)} / ${r.rss110.toFixed(1)} (${r.running110} Running; target < 80)`,
  };
  console.log(JSON.stringify({ label: 'node half (CNI through cnitool, warm pool, annotate first)', pods: r.names.length, loadavg: +os.loadavg()[0]!.toFixed(1), ...out }));
  console.table(Object.entries(out).map(([what, ms]) => ({ what, 'p50 / p99 (ms)': ms })));
}

// 0. The API server's floor, no operator running: the bench's own watch sees the pod (as the
//    operator's informer would), then one merge PATCH with the four annotations, timed. Whatever
//    design annotates a bound pod pays at least this.
{
  const patchMs: number[] = [];
  for (let i = 0; i < warmPods; i++) {
    const name = `${LABEL}-floor-${i}`;
    const delivered = new Promise<void>((r) => created.set(name, r));
    await c.kube.create(resources.Pod, benchPod(name));
    await delivered;
    created.delete(name);
    const t0 = performance.now();
    await c.kube.patch(resources.Pod, { name, namespace: NS }, { metadata: { annotations: { [IP_ANNOTATION]: `10.255.0.${i + 1}`, 'network.kube-iaas.dev/eni': 'eni-floor', 'network.kube-iaas.dev/device-index': '1', 'network.kube-iaas.dev/route-table': '2' } } });
    patchMs.push(performance.now() - t0);
  }
  floorPatch = stats(patchMs);
  console.log(JSON.stringify({ label: 'floor: one pod PATCH after the watch sees the pod (no operator)', pods: warmPods, patchMs: stats(patchMs) }));
  rows.push({ run: 'floor: the bench patches each pod itself, no operator (API server only)', 'load avg': +os.loadavg()[0]!.toFixed(1), pods: warmPods, 'operator ms p50 / p99': '—', 'of it, warm path: n, p50 / p99': '—', 'warm path, own (until the patch is sent)': '—', 'status write ms': '—', 'annotate ms': fmt(stats(patchMs)), 'queued ms': '—', 'wall ms p50 / p99': '—' });
  await deleteBenchPods();
}

if (process.env.BENCH_ONLY_CNI) {
  const o = await OperatorProcess.start([...leaderArgs('bench'), '--leaked-eni-sweep-interval=0', '--cooldown=1s']);
  try {
    await cniPart(o);
  } finally {
    await o.stop();
    watch.stop();
  }
  process.exit(0);
}

// 1a. Warm pool (warmEni=1), leader election off: record first, then annotate.
const rf = await OperatorProcess.start(['--leaked-eni-sweep-interval=0', '--cooldown=1s']);
try {
  await warmPool();
  await run('warm pool, record first (leader election off)', 'warm-rf', warmPods, rf);
  await deleteBenchPods();
} finally {
  await rf.stop();
}

// 1b. The same, as deployed (leader election on): the sole allocator annotates first. The operator
//     started here runs the rest of the bench.
const op = await OperatorProcess.start([...leaderArgs('bench'), '--leaked-eni-sweep-interval=0', '--cooldown=1s']);
try {
  await warmPool();
  await run('warm pool, annotate first (leader election on, as deployed)', 'warm', warmPods, op);
  await deleteBenchPods();
  if (process.env.BENCH_CNI) await cniPart(op);
  if (process.env.BENCH_ONLY_WARM) throw new Error('BENCH_ONLY_WARM: done after the warm runs');
  await waitFor('warm pool again', async () => (await pool())?.status?.summary?.enis === 1 && (await pool())?.status?.summary?.cooling === 0, 120_000, 500);

  // 2. Empty pool: minimumIp=1 and nothing warm; one filler pod takes the only address, so every
  //    bench pod waits for AssignPrivateIpAddresses and the record of the new address.
  await c.kube.patch(ENI_POOL_RESOURCE, { name: xlarge }, { spec: { warmEni: 0, minimumIp: 1 } });
  await onePod(`${LABEL}-filler`);
  await waitFor('empty pool', async () => {
    const s = (await pool())?.status?.summary;
    return s?.free === 0 && s.cooling === 0 && s.addresses === 1;
  }, 120_000, 500);
  await run('empty pool (minimumIp=1, warmEni=0, 1 filler pod)', 'empty', 20, op);
  await deleteBenchPods();
  await c.kube.patch(ENI_POOL_RESOURCE, { name: xlarge }, { spec: { warmEni: 1, minimumIp: null } });
  await waitFor('warm pool restored', async () => (await pool())?.status?.summary?.free === 14 && (await pool())?.status?.summary?.cooling === 0, 120_000, 500);

  // 3. Steady state: nothing changes for two minutes (resync 1h: no reconcile at all).
  await new Promise((r) => setTimeout(r, 5_000));
  const s0 = calls(await op.metrics());
  await new Promise((r) => setTimeout(r, 120_000));
  console.log(JSON.stringify({ label: 'steady, 120 s, no pod churn', awsCalls: diff(s0, calls(await op.metrics())) }));
} finally {
  await deleteBenchPods().catch(() => undefined);
  await op.stop();
  if (process.env.BENCH_LOG) writeFileSync(process.env.BENCH_LOG, op.output.join('\n'));
  console.table(rows);
}

// 4. What one resync of the three pools costs (the default --resync-period is 10 min: six per hour).
const rs = await OperatorProcess.start(['--leaked-eni-sweep-interval=0', '--resync-period=30s']);
try {
  await new Promise((r) => setTimeout(r, 10_000));
  const r0 = calls(await rs.metrics());
  await new Promise((r) => setTimeout(r, 60_000));
  console.log(JSON.stringify({ label: 'resyncs, 60 s at --resync-period=30s (2 resyncs of 3 pools)', awsCalls: diff(r0, calls(await rs.metrics())) }));
} finally {
  await rs.stop();
  watch.stop();
}
