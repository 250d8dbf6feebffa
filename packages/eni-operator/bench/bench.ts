// Benchmark on the testbed (a script, not a test): pod created → address annotated, one pod at a
// time on the c5.xlarge (warm pool) and then on a pool emptied to its minimum, plus AWS calls by
// operation per 100 pods, from the operator's /metrics. Needs a running testbed
// (KUBE_IAAS_TESTBED_DIR) and starts its own operator process.
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { resources } from '@kube-iaas/core';
import { readState } from '@kube-iaas/testbed';
import { IP_ANNOTATION } from '../src/constants.ts';
import { OperatorProcess, clients, waitFor } from '../test/integration/harness.ts';

const account = readState()?.account;
if (!account) throw new Error('testbed not running');
const c = clients();
const NS = 'default';
const nodes = (await c.kube.list<V1Node>(resources.Node)).items;
const xlarge = nodes.find((n) => n.spec?.providerID?.endsWith(`/${account.instanceIds[1]}`))!.metadata!.name!;

function calls(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^kube_iaas_aws_api_calls_total\{([^}]*)\} (\d+)/gm)) {
    const op = /operation="([^"]*)"/.exec(m[1] ?? '')?.[1] ?? '?';
    out[op] = (out[op] ?? 0) + Number(m[2]);
  }
  return out;
}
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

async function run(label: string, n: number, args: string[]): Promise<void> {
  const op = await OperatorProcess.start(['--leaked-eni-sweep-interval=0', '--cooldown=1s', ...args]);
  try {
    await new Promise((r) => setTimeout(r, 5_000)); // let the warm pool settle
    const before = calls(await op.metrics());
    const lat: number[] = [];
    for (let i = 0; i < n; i++) {
      const name = `eni-bench-${i}`;
      const t0 = performance.now();
      await c.kube.create(resources.Pod, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS, labels: { app: 'eni-bench' } }, spec: { nodeName: xlarge, containers: [{ name: 'c', image: 'nginx' }], terminationGracePeriodSeconds: 0 } });
      await waitFor(name, async () => !!(await c.kube.get<V1Pod>(resources.Pod, name, NS))?.metadata?.annotations?.[IP_ANNOTATION], 60_000, 5);
      lat.push(performance.now() - t0);
    }
    const text = await op.metrics();
    const after = calls(text);
    const bucket = (le: string) => Number(new RegExp(`^kube_iaas_eni_allocation_seconds_bucket\\{le="${le}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    const work = (q: string) => Number(new RegExp(`^kube_iaas_workqueue_work_duration_seconds_${q}\\{name="enipool"\\} ([\\d.e+-]+)`, 'm').exec(text)?.[1] ?? 0);
    const annotated = Number(/^kube_iaas_eni_allocation_seconds_count (\d+)/m.exec(text)?.[1] ?? 0);
    const operatorTime = { statusToAnnotationUnder50ms: `${bucket('0.05')}/${annotated}`, under25ms: `${bucket('0.025')}/${annotated}`, meanReconcileMs: Math.round((work('sum') / Math.max(1, work('count'))) * 1000) };
    const delta = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, Math.round(((v - (before[k] ?? 0)) * 100) / n)]).filter(([, v]) => Number(v) > 0));
    console.log(JSON.stringify({ label, pods: n, p50Ms: Math.round(pct(lat, 50)), p99Ms: Math.round(pct(lat, 99)), maxMs: Math.round(Math.max(...lat)), operatorTime, awsCallsPer100Pods: delta }));
  } finally {
    for (const p of (await c.kube.list<V1Pod>(resources.Pod, { namespace: NS, labelSelector: 'app=eni-bench' })).items) await c.kube.delete(resources.Pod, { name: p.metadata!.name!, namespace: NS });
    await waitFor('bench pods gone', async () => (await c.kube.list<V1Pod>(resources.Pod, { namespace: NS, labelSelector: 'app=eni-bench' })).items.length === 0, 120_000);
    await op.stop();
  }
}

console.log(`load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')}`);
await run('warm pool (warmEni=1, existing pool)', 40, []);
// Pools keep their spec; this run measures the same pool after the previous pods were released.
await run('second run (addresses cooled down and reused)', 40, []);
