// Benchmark on the testbed: N Services (default 200) of type LoadBalancer applied at once.
// Measures time until every Service has a hostname and every NetworkLoadBalancer is Ready, AWS calls
// per Service by operation, the calls of a full resync with nothing changed (a restarted operator
// reconciling everything), deletion time, and the operator's peak memory.
//   npm run bench -w @kube-iaas/lb-operator            (BENCH_SERVICES=50 for a quicker run)
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import type { V1Service } from '@kubernetes/client-node';
import { resources } from '@kube-iaas/core/runtime';
import { up } from '@kube-iaas/testbed';
import { ANNOTATIONS } from '../src/constants.ts';
import { OperatorProcess, clients, mutatingDelta, ourElbResources, waitFor } from '../test/integration/harness.ts';

const N = Number(process.env.BENCH_SERVICES ?? 200);
const NS = 'lb-bench';
const WORKERS = process.env.BENCH_WORKERS ?? '16';
// One node security group holds 60 inbound rules (AWS's default quota, enforced by moto): with more
// Services than that, rules are turned off for the benchmark (BENCH_SG_RULES=on to keep them).
const SG_RULES = process.env.BENCH_SG_RULES ?? (N > 50 ? 'off' : 'on');
const opArgs = [`--workers=${WORKERS}`, `--manage-security-group-rules=${SG_RULES === 'on'}`, '--orphan-sweep-interval=10m'];

await up(() => undefined);
const c = clients();
const cluster = process.env.CLUSTER_NAME ?? 'int32bit-kubernetes';

function peakRssMiB(pid: number | undefined): number {
  if (!pid) return 0;
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m?.[1] ? Math.round(Number(m[1]) / 1024) : 0;
}

async function metric(op: OperatorProcess, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${op.port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) && line.includes(labels)) sum += Number(line.split(' ').pop());
  return sum;
}

async function idle(op: OperatorProcess): Promise<boolean> {
  const depth = await metric(op, 'kube_iaas_workqueue_depth', 'name="networkloadbalancer"');
  const inflight = await metric(op, 'kube_iaas_workqueue_in_flight', 'name="networkloadbalancer"');
  return depth === 0 && inflight === 0;
}

function perService(calls: Record<string, number>, n: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(calls)) {
    const [svc, opn, outcome] = k.split(':');
    const key = `${svc}:${opn}${outcome === 'success' ? '' : ` (${outcome})`}`;
    out[key] = Math.round(((out[key] ?? 0) + v / n) * 100) / 100;
  }
  return Object.fromEntries(Object.entries(out).sort());
}

/** The API server of a busy two-core testbed can time out a request: retry, treating "already done" as done. */
async function retry(what: string, fn: () => Promise<unknown>): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await fn();
      return;
    } catch (e) {
      const code = (e as { code?: number }).code;
      if (code === 409 || code === 404) return;
      if (i >= 5) throw new Error(`${what}: ${String(e)}`, { cause: e });
      await new Promise((r) => setTimeout(r, 1000 * (i + 1)));
    }
  }
}

if (!(await c.kube.get(resources.Namespace, NS))) await c.kube.create(resources.Namespace, { metadata: { name: NS } });
const names = Array.from({ length: N }, (_, i) => `bench-${String(i).padStart(3, '0')}`);
const svc = (name: string): V1Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: NS, annotations: { [ANNOTATIONS.type]: 'nlb' } },
  spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' }] },
});

let op = await OperatorProcess.start(opArgs);
// Leftovers of an interrupted run go first (with the operator running, so AWS is cleaned too).
const leftovers = (await c.kube.list<V1Service>(resources.Service, { namespace: NS })).items;
if (leftovers.length > 0) {
  for (const s of leftovers) await retry('delete leftover', () => c.kube.delete(resources.Service, { name: s.metadata?.name ?? '', namespace: NS }));
  await waitFor('leftovers deleted', async () => (await c.kube.list<V1Service>(resources.Service, { namespace: NS })).items.length === 0, 1_800_000, 1000);
  await op.stop();
  op = await OperatorProcess.start(opArgs);
}
const t0 = performance.now();
for (let i = 0; i < names.length; i += 20) await Promise.all(names.slice(i, i + 20).map((n) => retry(`create ${n}`, () => c.kube.create(resources.Service, svc(n)))));
const applied = performance.now() - t0;
const withHostname = async () => (await c.kube.list<V1Service>(resources.Service, { namespace: NS })).items.filter((s) => s.status?.loadBalancer?.ingress?.[0]?.hostname).length;
await waitFor(`${N} hostnames`, async () => (await withHostname()) >= N, 1_800_000, 1000);
const allHostnames = performance.now() - t0;
type Cr = { metadata?: object; status?: { conditions?: { type: string; status: string }[] } };
await waitFor(`${N} Ready`, async () => (await c.kube.list<Cr>({ apiVersion: 'elb.kube-iaas.dev/v1alpha1', kind: 'NetworkLoadBalancer', plural: 'networkloadbalancers', namespaced: true }, { namespace: NS })).items.filter((x) => x.status?.conditions?.some((k) => k.type === 'Ready' && k.status === 'True')).length >= N, 1_800_000, 1000);
const allReady = performance.now() - t0;
await waitFor('queue drained', () => idle(op), 600_000, 500);
const createCalls = await op.awsCalls();
const peakCreate = peakRssMiB(op.child.pid);
await op.stop();

// Full resync with nothing changed: a fresh operator reconciles every Service and NetworkLoadBalancer.
op = await OperatorProcess.start(opArgs);
const r0 = performance.now();
await waitFor('resync done', async () => (await metric(op, 'kube_iaas_reconcile_total', 'controller="networkloadbalancer"')) >= N && (await idle(op)), 600_000, 500);
const resyncMs = performance.now() - r0;
const resyncCalls = await op.awsCalls();
const resyncMutating = Object.values(mutatingDelta({}, resyncCalls)).reduce((a, b) => a + b, 0);
const peakResync = peakRssMiB(op.child.pid);

const d0 = performance.now();
for (let i = 0; i < names.length; i += 20) await Promise.all(names.slice(i, i + 20).map((n) => retry(`delete ${n}`, () => c.kube.delete(resources.Service, { name: n, namespace: NS }))));
await waitFor('all deleted', async () => (await c.kube.list<V1Service>(resources.Service, { namespace: NS })).items.length === 0, 1_800_000, 1000);
const deleted = performance.now() - d0;
const deleteCalls = mutatingDelta(resyncCalls, await op.awsCalls());
const left = await ourElbResources(c, cluster, (t) => (t['kube-iaas.dev/owner'] ?? '').startsWith(`${NS}/`));
await op.stop();

const total = (calls: Record<string, number>) => Object.values(calls).reduce((a, b) => a + b, 0);
const result = {
  machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  services: N,
  workers: Number(WORKERS),
  securityGroupRules: SG_RULES,
  applySeconds: +(applied / 1000).toFixed(1),
  allHostnamesSeconds: +(allHostnames / 1000).toFixed(1),
  allReadySeconds: +(allReady / 1000).toFixed(1),
  createCallsPerService: perService(createCalls, N),
  createCallsTotal: total(createCalls),
  resyncSeconds: +(resyncMs / 1000).toFixed(1),
  resyncCallsPerService: perService(resyncCalls, N),
  resyncMutatingCalls: resyncMutating,
  deleteSeconds: +(deleted / 1000).toFixed(1),
  deleteMutatingCallsPerService: perService(deleteCalls, N),
  leftInAws: left.lbs.length + left.tgs.length,
  peakRssMiB: { create: peakCreate, resync: peakResync },
};
writeFileSync(new URL('./results.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
process.exit(0);
