// Benchmark on the testbed: 100 Ingresses in 10 groups (BENCH_GROUPS × BENCH_MEMBERS) applied at once,
// each member one path to one of 5 NodePort Services. Measures time until every Ingress has an address
// and every ApplicationLoadBalancer is Ready, AWS calls by operation, the calls of a full resync with
// nothing changed (a restarted operator reconciling everything), deletion time, and the operator's peak
// memory (VmHWM of its process).
//   npm run bench -w @kube-iaas/ingress-operator
//   AWS_RATE_LIMITS=elbv2.mutate=off,elbv2.describe=off,ec2.mutate=off,ec2.describe=off BENCH_OUT=results-unlimited.json npm run bench -w …
//     (the operator's own cost, without the client-side AWS budgets)
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import type { V1Ingress, V1Service } from '@kubernetes/client-node';
import { resources } from '@kube-iaas/core/runtime';
import { up } from '@kube-iaas/testbed';
import { ANNOTATIONS } from '../src/constants.ts';
import { ALB_RESOURCE } from '../src/controllers/common.ts';
import { OperatorProcess, clients, mutatingDelta, ourAlbResources, waitFor } from '../test/integration/harness.ts';

const GROUPS = Number(process.env.BENCH_GROUPS ?? 10);
const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 10);
const N = GROUPS * MEMBERS;
// 5 Services: each group's members use all five, so each ALB has 5 target groups and opens 5 NodePorts
// on the node security group (10 ALBs → 50 rules, under the 60-rule quota moto enforces like AWS).
const SERVICES = 5;
const NS = 'ingress-bench';
const WORKERS = process.env.BENCH_WORKERS ?? '8';
const opArgs = [`--workers=${WORKERS}`, '--orphan-sweep-interval=10m'];

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
  for (const ctl of ['ingress', 'applicationloadbalancer']) {
    if ((await metric(op, 'kube_iaas_workqueue_depth', `name="${ctl}"`)) > 0) return false;
    if ((await metric(op, 'kube_iaas_workqueue_in_flight', `name="${ctl}"`)) > 0) return false;
  }
  return true;
}

/** `kube_iaas_reconcile_total` by controller and outcome (how often each stage ran, and why again). */
async function reconciles(op: OperatorProcess): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${op.port}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^kube_iaas_reconcile_total\{([^}]*)\} (\d+)/gm)) {
    const labels = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Number(m[2]) > 0) out[Object.values(labels).join(':')] = Number(m[2]);
  }
  return out;
}

function byOperation(calls: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(calls)) {
    const [svc, opn, outcome] = k.split(':');
    const key = `${svc}:${opn}${outcome === 'success' ? '' : ` (${outcome})`}`;
    out[key] = (out[key] ?? 0) + v;
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
const svcName = (i: number) => `bench-svc-${i}`;
for (let i = 0; i < SERVICES; i++) {
  const svc: V1Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: svcName(i), namespace: NS }, spec: { type: 'NodePort', selector: { app: svcName(i) }, ports: [{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' }] } };
  if (!(await c.kube.get(resources.Service, svcName(i), NS))) await c.kube.create(resources.Service, svc);
}
const members = Array.from({ length: N }, (_, i) => ({ name: `bench-${String(i).padStart(3, '0')}`, group: `group-${i % GROUPS}`, order: Math.floor(i / GROUPS), service: svcName(Math.floor(i / GROUPS) % SERVICES) }));
const ing = (m: (typeof members)[number]): V1Ingress => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: m.name, namespace: NS, annotations: { [ANNOTATIONS.scheme]: 'internet-facing', [ANNOTATIONS.listenPorts]: '[{"HTTP": 18080}]', [ANNOTATIONS.groupName]: m.group, [ANNOTATIONS.groupOrder]: String(m.order) } },
  spec: { ingressClassName: 'alb', rules: [{ host: 'bench.int32bit.me', http: { paths: [{ path: `/${m.name}`, pathType: 'Prefix', backend: { service: { name: m.service, port: { number: 8080 } } } }] } }] },
});

let op = await OperatorProcess.start(opArgs);
// Leftovers of an interrupted run go first (with the operator running, so AWS is cleaned too).
const leftovers = (await c.kube.list<V1Ingress>(resources.Ingress, { namespace: NS })).items;
if (leftovers.length > 0) {
  for (const s of leftovers) await retry('delete leftover', () => c.kube.delete(resources.Ingress, { name: s.metadata?.name ?? '', namespace: NS }));
  await waitFor('leftovers deleted', async () => (await c.kube.list(ALB_RESOURCE, { namespace: NS })).items.length === 0, 1_800_000, 1000);
  await op.stop();
  op = await OperatorProcess.start(opArgs);
}
const t0 = performance.now();
for (let i = 0; i < members.length; i += 20) await Promise.all(members.slice(i, i + 20).map((m) => retry(`create ${m.name}`, () => c.kube.create(resources.Ingress, ing(m)))));
const applied = performance.now() - t0;
const withAddress = async () => (await c.kube.list<V1Ingress>(resources.Ingress, { namespace: NS })).items.filter((s) => s.status?.loadBalancer?.ingress?.[0]?.hostname).length;
await waitFor(`${N} addresses`, async () => (await withAddress()) >= N, 1_800_000, 1000);
const allAddresses = performance.now() - t0;
type Cr = { metadata?: object; spec?: { rules?: unknown[] }; status?: { conditions?: { type: string; status: string }[] } };
const ready = async () => (await c.kube.list<Cr>(ALB_RESOURCE, { namespace: NS })).items.filter((x) => x.spec?.rules?.length === MEMBERS && x.status?.conditions?.some((k) => k.type === 'Ready' && k.status === 'True')).length;
await waitFor(`${GROUPS} Ready with ${MEMBERS} rules`, async () => (await ready()) >= GROUPS, 1_800_000, 1000);
const allReady = performance.now() - t0;
await waitFor('queues drained', () => idle(op), 600_000, 500);
const createCalls = await op.awsCalls();
const createReconciles = await reconciles(op);
const peakCreate = peakRssMiB(op.child.pid);
await op.stop();

// Full resync with nothing changed: a fresh operator reconciles every group and ApplicationLoadBalancer.
op = await OperatorProcess.start(opArgs);
const r0 = performance.now();
await waitFor('resync done', async () => (await metric(op, 'kube_iaas_reconcile_total', 'controller="applicationloadbalancer"')) >= GROUPS && (await metric(op, 'kube_iaas_reconcile_total', 'controller="ingress"')) >= GROUPS && (await idle(op)), 600_000, 500);
const resyncMs = performance.now() - r0;
const resyncCalls = await op.awsCalls();
const resyncMutating = Object.values(mutatingDelta({}, resyncCalls)).reduce((a, b) => a + b, 0);
const peakResync = peakRssMiB(op.child.pid);

const d0 = performance.now();
for (let i = 0; i < members.length; i += 20) await Promise.all(members.slice(i, i + 20).map((m) => retry(`delete ${m.name}`, () => c.kube.delete(resources.Ingress, { name: m.name, namespace: NS }))));
await waitFor('all deleted', async () => (await c.kube.list(ALB_RESOURCE, { namespace: NS })).items.length === 0 && (await c.kube.list(resources.Ingress, { namespace: NS })).items.length === 0, 1_800_000, 1000);
const deleted = performance.now() - d0;
const deleteCalls = mutatingDelta(resyncCalls, await op.awsCalls());
const left = await ourAlbResources(c, cluster, (t) => (t['kube-iaas.dev/owner'] ?? '').startsWith(`${NS}/`));
await op.stop();

const total = (calls: Record<string, number>) => Object.values(calls).reduce((a, b) => a + b, 0);
const result = {
  machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  ingresses: N,
  groups: GROUPS,
  workers: Number(WORKERS),
  awsRateLimits: process.env.AWS_RATE_LIMITS || 'core defaults',
  applySeconds: +(applied / 1000).toFixed(1),
  allAddressesSeconds: +(allAddresses / 1000).toFixed(1),
  allReadySeconds: +(allReady / 1000).toFixed(1),
  createCalls: byOperation(createCalls),
  createCallsTotal: total(createCalls),
  createReconciles,
  resyncSeconds: +(resyncMs / 1000).toFixed(1),
  resyncCalls: byOperation(resyncCalls),
  resyncMutatingCalls: resyncMutating,
  deleteSeconds: +(deleted / 1000).toFixed(1),
  deleteMutatingCalls: byOperation(deleteCalls),
  leftInAws: left.lbs.length + left.tgs.length + left.sgs.length,
  peakRssMiB: { create: peakCreate, resync: peakResync },
};
writeFileSync(new URL(`./${process.env.BENCH_OUT ?? 'results.json'}`, import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
process.exit(0);
