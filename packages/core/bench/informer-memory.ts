// Memory an informer costs per cached object (issue #16: ≤ 3 KiB per Pod or Service above idle).
// Creates N Pods (default 10,000; nothing schedules them: schedulerName names no scheduler) — and N
// headless Services with INFORMER_BENCH_KINDS=pods,services — in a namespace of its own on the
// testbed, then, for each transform, starts a
// fresh process with one Informer on them and reports (V8 heap after a full GC, and RSS) after the
// first list minus before it, divided by N — with Node's defaults and with the bundle's settings
// (scripts/bundle.ts BUNDLE_NODE_FLAGS, BUNDLE_ENV). The namespace is deleted at the end. The heap
// figure is what the cache holds; RSS adds what the list pages' parsing left resident.
//   node bench/informer-memory.ts            (INFORMER_BENCH_N=10000)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { up } from '@kube-iaas/testbed';
import { testbedEnv, testbedKubeConfig } from '@kube-iaas/testbed/testing';
import { BUNDLE_ENV, BUNDLE_NODE_FLAGS } from '../../../scripts/bundle.ts';
import { Informer, KubeClient, defaultTransform, resources, slimPod, stripManagedFields, type KubeObject } from '../src/runtime/index.ts';

const N = Number(process.env.INFORMER_BENCH_N ?? 10_000);
const KINDS = (process.env.INFORMER_BENCH_KINDS ?? 'pods').split(',');
const TRANSFORMS: Record<string, (o: KubeObject) => KubeObject> = {
  none: (o) => o,
  'managedFields dropped': stripManagedFields,
  'default (+ last-applied)': defaultTransform,
  'slimPod': slimPod as (o: KubeObject) => KubeObject,
};

if (process.argv[2] === '--child') {
  // one informer, measured from inside: heap after a full GC, before and after the first list
  const [, , , kind, ns, transform] = process.argv;
  const gc = (globalThis as { gc?: () => void }).gc!;
  const client = new KubeClient(testbedKubeConfig());
  const type = kind === 'pods' ? resources.Pod : resources.Service;
  await client.list(type, { namespace: ns, limit: 1 }); // connection, TLS and JSON paths warm
  const measure = () => {
    gc();
    gc();
    return { heap: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss };
  };
  const before = measure();
  const inf = new Informer(client, type, { namespace: ns, transform: TRANSFORMS[transform!]! });
  inf.start();
  await inf.waitForSync();
  const after = measure();
  process.stdout.write(`${JSON.stringify({ objects: inf.store.size, heap: after.heap - before.heap, rss: after.rss - before.rss })}\n`);
  await inf.stop();
  await client.close();
  process.exit(0);
}

await up(() => undefined);
const client = new KubeClient(testbedKubeConfig());
const ns = `bench-informer-${randomBytes(3).toString('hex')}`;
await client.create(resources.Namespace, { metadata: { name: ns } });

function pod(i: number): KubeObject {
  return {
    metadata: { name: `p-${i}`, namespace: ns, labels: { app: `app-${i % 50}`, tier: 'web', 'pod-template-hash': '7c9f8d6b5' }, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"apiVersion":"v1","kind":"Pod"}' } },
    spec: {
      schedulerName: 'kube-iaas-bench-nobody',
      containers: [
        {
          name: 'app',
          image: 'registry.example.com/team/app:1.2.3',
          ports: [{ containerPort: 8080, name: 'http' }],
          env: [{ name: 'MODE', value: 'production' }, { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
          resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } },
          readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 5 },
        },
      ],
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoSchedule' }],
    },
  } as KubeObject;
}

function service(i: number): KubeObject {
  return {
    metadata: { name: `s-${i}`, namespace: ns, labels: { app: `app-${i % 50}` } },
    spec: { clusterIP: 'None', selector: { app: `app-${i % 50}` }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
  } as KubeObject;
}

async function createAll(kind: string, make: (i: number) => KubeObject): Promise<void> {
  const type = kind === 'pods' ? resources.Pod : resources.Service;
  let next = 0;
  const worker = async () => {
    while (next < N) {
      const i = next++;
      for (let attempt = 0; ; attempt++) {
        try {
          await client.create(type, make(i));
          break;
        } catch (err) {
          if ((err as { code?: number }).code === 409) break;
          if (attempt > 5) throw err;
          await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
        }
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

function child(kind: string, transform: string, settings: boolean): Promise<{ objects: number; heap: number; rss: number }> {
  return new Promise((resolve, reject) => {
    const flags = settings ? BUNDLE_NODE_FLAGS : [];
    const p = spawn(process.execPath, [...flags, '--expose-gc', fileURLToPath(import.meta.url), '--child', kind, ns, transform], {
      env: { ...process.env, ...testbedEnv().env, ...(settings ? BUNDLE_ENV : {}) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}')) : reject(new Error(`child exited ${code}`))));
  });
}

const rows: string[] = [];
try {
  for (const kind of KINDS) {
    const t0 = Date.now();
    await createAll(kind, kind === 'pods' ? pod : service);
    console.error(`created ${N} ${kind} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    for (const t of Object.keys(TRANSFORMS)) {
      if (t === 'slimPod' && kind !== 'pods') continue;
      for (const settings of [false, true]) {
        const r = await child(kind, t, settings);
        const kib = (x: number) => (x / r.objects / 1024).toFixed(2);
        rows.push(`| ${kind} | ${t} | ${settings ? 'bundle settings' : 'defaults'} | ${r.objects} | ${kib(r.heap)} | ${kib(r.rss)} | ${(r.rss / 2 ** 20).toFixed(0)} |`);
        console.error(rows.at(-1));
      }
    }
  }
} finally {
  await client.delete(resources.Namespace, { name: ns }).catch(() => undefined);
  await client.close();
}
console.log(`\nInformer memory per object — ${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; target ≤ 3 KiB per object\n`);
console.log('| objects | transform | node/malloc settings | cached | V8 heap KiB / object | RSS KiB / object | RSS above idle MiB |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) console.log(r);
