// Benchmarks on the testbed (start it first: `npm run testbed -- up`, or KUBE_IAAS_TESTBED_DIR=…):
//  1. 100 PVCs at once: time until all Bound, AWS calls per PVC by operation, operator peak memory;
//  2. attach/detach of 50 volumes across the 3 nodes: time until all pods Running, time until every
//     VolumeAttachment is gone after the pods are deleted, AWS calls for each phase.
// The operator runs as its own process; calls are read from its /metrics, memory from /proc (VmHWM).
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { resources, type KubeObject } from '@kube-iaas/core/runtime';
import { claim, createNamespace, ensureNodeRegistration, kube, podWithClaim, startOperator, storageClass, waitFor } from '../test/integration/harness.ts';
import type { PersistentVolumeClaim, VolumeAttachment } from '../src/translate/index.ts';

const N_CLAIMS = Number(process.env.BENCH_CLAIMS ?? 100);
const N_ATTACH = Number(process.env.BENCH_ATTACH ?? 50);
const tag = Math.random().toString(36).slice(2, 6);

async function awsCalls(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^kube_iaas_aws_api_calls_total\{([^}]*)\} (\d+(?:\.\d+)?)$/gm)) {
    const op = /operation="([^"]+)"/.exec(m[1] ?? '')?.[1] ?? '?';
    out.set(op, (out.get(op) ?? 0) + Number(m[2]));
  }
  return out;
}

function diff(after: Map<string, number>, before: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of after) if (v - (before.get(k) ?? 0) > 0) out[k] = v - (before.get(k) ?? 0);
  return out;
}

function perItem(calls: Record<string, number>, n: number): string {
  return Object.entries(calls)
    .sort()
    .map(([k, v]) => `${k} ${(v / n).toFixed(2)}`)
    .join(', ');
}

function peakRssMiB(pid: number | undefined): number {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? 0) / 1024);
}

async function count<T>(what: () => Promise<T[]>, pred: (t: T) => boolean): Promise<number> {
  return (await what()).filter(pred).length;
}

await ensureNodeRegistration();
const op = await startOperator({ args: ['--workers=8'] });
const results: string[] = [];
try {
  // 1. 100 claims at once.
  const ns = await createNamespace('bench');
  const sc = `bench-${tag}`;
  await kube.create(resources.StorageClass, storageClass(sc, { type: 'gp3' }));
  const before = await awsCalls(op.metricsUrl);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: N_CLAIMS }, (_, i) => kube.create(resources.PersistentVolumeClaim, claim(ns, `c${i}`, sc, '1Gi'))));
  const listClaims = async () => (await kube.list<PersistentVolumeClaim>(resources.PersistentVolumeClaim, { namespace: ns })).items;
  await waitFor(`${N_CLAIMS} claims Bound`, async () => (await count(listClaims, (c) => c.status?.phase === 'Bound')) === N_CLAIMS, 600_000, 200);
  const bound = (performance.now() - t0) / 1000;
  const provCalls = diff(await awsCalls(op.metricsUrl), before);
  results.push(`| ${N_CLAIMS} PVCs at once → all Bound | ${bound.toFixed(1)} s | ${perItem(provCalls, N_CLAIMS)} (per PVC) |`);

  // 2. Attach / detach: 50 bound claims in two zones (the single node of zone b has 26 slots), 50 pods.
  const nsA = await createNamespace('bench-attach');
  const zoneA = `bench-a-${tag}`;
  const zoneB = `bench-b-${tag}`;
  const topo = (z: string) => ({ allowedTopologies: [{ matchLabelExpressions: [{ key: 'topology.kubernetes.io/zone', values: [z] }] }] });
  await kube.create(resources.StorageClass, storageClass(zoneA, { type: 'gp3' }, topo('cn-northwest-1a')));
  await kube.create(resources.StorageClass, storageClass(zoneB, { type: 'gp3' }, topo('cn-northwest-1b')));
  const inB = Math.floor(N_ATTACH / 3);
  await Promise.all(Array.from({ length: N_ATTACH }, (_, i) => kube.create(resources.PersistentVolumeClaim, claim(nsA, `v${i}`, i < inB ? zoneB : zoneA, '1Gi'))));
  const listA = async () => (await kube.list<PersistentVolumeClaim>(resources.PersistentVolumeClaim, { namespace: nsA })).items;
  await waitFor('attach claims Bound', async () => (await count(listA, (c) => c.status?.phase === 'Bound')) === N_ATTACH, 600_000, 200);
  const b2 = await awsCalls(op.metricsUrl);
  const t1 = performance.now();
  await Promise.all(Array.from({ length: N_ATTACH }, (_, i) => kube.create(resources.Pod, podWithClaim(nsA, `p${i}`, `v${i}`))));
  const listPods = async () => (await kube.list<KubeObject & { status?: { phase?: string } }>(resources.Pod, { namespace: nsA })).items;
  await waitFor('pods Running', async () => (await count(listPods, (p) => p.status?.phase === 'Running')) === N_ATTACH, 600_000, 200);
  const attached = (performance.now() - t1) / 1000;
  const attachCalls = diff(await awsCalls(op.metricsUrl), b2);
  const nodesUsed = new Set((await kube.list<KubeObject & { spec?: { nodeName?: string } }>(resources.Pod, { namespace: nsA })).items.map((p) => p.spec?.nodeName)).size;
  results.push(`| ${N_ATTACH} pods with ${N_ATTACH} volumes on ${nodesUsed} nodes → all Running (attached) | ${attached.toFixed(1)} s | ${perItem(attachCalls, N_ATTACH)} (per volume) |`);

  const b3 = await awsCalls(op.metricsUrl);
  const t2 = performance.now();
  await Promise.all(Array.from({ length: N_ATTACH }, (_, i) => kube.delete(resources.Pod, { name: `p${i}`, namespace: nsA })));
  const listVa = async () => (await kube.list<VolumeAttachment>(resources.VolumeAttachment)).items;
  await waitFor('VolumeAttachments gone', async () => (await count(listVa, (v) => v.spec.attacher === 'ebs.kube-iaas.dev')) === 0, 900_000, 250);
  const detached = (performance.now() - t2) / 1000;
  const detachCalls = diff(await awsCalls(op.metricsUrl), b3);
  results.push(`| delete the ${N_ATTACH} pods → all detached (VolumeAttachments gone) | ${detached.toFixed(1)} s | ${perItem(detachCalls, N_ATTACH)} (per volume) |`);

  // Clean up: claims go, volumes are deleted.
  const b4 = await awsCalls(op.metricsUrl);
  const t3 = performance.now();
  await Promise.all([...Array.from({ length: N_CLAIMS }, (_, i) => kube.delete(resources.PersistentVolumeClaim, { name: `c${i}`, namespace: ns })), ...Array.from({ length: N_ATTACH }, (_, i) => kube.delete(resources.PersistentVolumeClaim, { name: `v${i}`, namespace: nsA }))]);
  const listAv = async () => (await kube.list<{ metadata?: { name?: string } }>({ apiVersion: 'storage.kube-iaas.dev/v1alpha1', kind: 'AwsVolume', plural: 'awsvolumes', namespaced: false })).items;
  await waitFor('AwsVolumes gone', async () => (await listAv()).length === 0, 900_000, 500);
  const gone = (performance.now() - t3) / 1000;
  results.push(`| delete ${N_CLAIMS + N_ATTACH} claims → every volume deleted | ${gone.toFixed(1)} s | ${perItem(diff(await awsCalls(op.metricsUrl), b4), N_CLAIMS + N_ATTACH)} (per volume) |`);
  results.push(`| operator peak resident memory (VmHWM) | ${peakRssMiB(op.proc.pid)} MiB | |`);
  for (const s of [sc, zoneA, zoneB]) await kube.delete(resources.StorageClass, { name: s });
} finally {
  await op.stop();
  if (process.env.BENCH_DEBUG) for (const l of op.logs) if (/"level":[45]0|deleting|Released/.test(l)) console.error(l.slice(0, 400));
}
const cpu = cpus();
console.log(`machine: ${cpu.length} × ${cpu[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' / ')}`);
console.log(['| what | time | AWS calls |', '| --- | --- | --- |', ...results].join('\n'));
