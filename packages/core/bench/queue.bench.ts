/**
 * Runtime benchmark (a script, not a test): 10,000 keys through a no-op reconciler.
 *
 * 1. Queue alone: keys enqueued straight into a Controller (work queue + workers + metrics), for
 *    1, 4 and 16 workers — the runtime's own per-key overhead.
 * 2. Informers against the testbed, when it is running: 10,000 ConfigMaps listed and watched by
 *    an informer that feeds the controller — time to sync and to reconcile every key, and how many
 *    API-server requests the informer made.
 *
 * Prints a Markdown table; the numbers in packages/core/README.md come from this script.
 *   npm run bench -w @kube-iaas/core            (BENCH_KEYS=… to change the count)
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Controller, Informer, KubeClient, resources, type KubeObject } from '../src/runtime/index.ts';

const KEYS = Number(process.env.BENCH_KEYS ?? 10_000);

interface Row {
  scenario: string;
  workers: number;
  totalMs: number;
  perKeyUs: number;
  cpuPerKeyUs: number;
  keysPerSec: number;
  peakRssMb: number;
  peakHeapMb: number;
  listRequests?: number | string;
  watchRequests?: number | string;
  syncMs?: number | string;
}

/** Samples RSS and heap every 5ms while `fn` runs; returns the peaks above the starting point too. */
async function measure<T>(fn: () => Promise<T>): Promise<{ result: T; ms: number; cpuUs: number; peakRss: number; peakHeap: number }> {
  globalThis.gc?.();
  let peakRss = process.memoryUsage.rss();
  let peakHeap = process.memoryUsage().heapUsed;
  const timer = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }, 5);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await fn();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(timer);
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  return { result, ms, cpuUs: cpu.user + cpu.system, peakRss, peakHeap };
}

const mb = (b: number) => Math.round((b / 1024 / 1024) * 10) / 10;

/** A counter that resolves `reached` once it has been bumped `target` times. */
function countdown(target: number): { bump: () => void; reached: Promise<void>; count: () => number } {
  let n = 0;
  let resolve!: () => void;
  const reached = new Promise<void>((r) => (resolve = r));
  return {
    bump: () => {
      if (++n === target) resolve();
    },
    reached,
    count: () => n,
  };
}

async function queueAlone(workers: number): Promise<Row> {
  const done = countdown(KEYS);
  const c = new Controller({
    name: `bench-queue-${workers}`,
    workers,
    resyncPeriodMs: 0,
    reconcile: async () => {
      done.bump();
    },
  });
  c.start();
  const m = await measure(async () => {
    for (let i = 0; i < KEYS; i++) c.enqueue(`bench/key-${i}`);
    await done.reached;
  });
  await c.stop();
  return {
    scenario: 'queue alone (no API server)',
    workers,
    totalMs: m.ms,
    perKeyUs: (m.ms * 1000) / KEYS,
    cpuPerKeyUs: m.cpuUs / KEYS,
    keysPerSec: KEYS / (m.ms / 1000),
    peakRssMb: mb(m.peakRss),
    peakHeapMb: mb(m.peakHeap),
    listRequests: 'n/a',
    watchRequests: 'n/a',
    syncMs: 'n/a',
  };
}

async function testbedClient(): Promise<KubeClient | undefined> {
  try {
    const { testbedKubeConfig } = await import('@kube-iaas/testbed/testing');
    const client = new KubeClient(testbedKubeConfig());
    await client.request('GET', '/version', { timeoutMs: 3000 });
    return client;
  } catch (err) {
    console.error(`testbed not reachable (${(err as Error).message.split('\n')[0]}); informer scenario skipped`);
    return undefined;
  }
}

async function createConfigMaps(client: KubeClient, ns: string): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < KEYS) {
      const i = next++;
      for (let attempt = 0; ; attempt++) {
        try {
          await client.create(resources.ConfigMap, {
            metadata: { name: `cm-${i}`, namespace: ns, labels: { bench: 'true' } },
            data: { i: String(i) },
          } as KubeObject);
          break;
        } catch (err) {
          if (attempt > 5) throw err;
          await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
        }
      }
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  return performance.now() - t0;
}

async function informerScenario(client: KubeClient, ns: string, workers: number): Promise<Row> {
  const done = countdown(KEYS);
  const inf = new Informer<KubeObject>(client, resources.ConfigMap, { namespace: ns, labelSelector: 'bench=true' });
  const c = new Controller({
    name: `bench-informer-${workers}`,
    workers,
    resyncPeriodMs: 0,
    reconcile: async () => {
      done.bump();
    },
  });
  c.watch(inf);
  let syncMs = 0;
  const m = await measure(async () => {
    const t0 = performance.now();
    inf.start();
    await inf.waitForSync();
    syncMs = performance.now() - t0;
    c.start();
    await done.reached;
  });
  // stay connected a little to show the watch does not keep reconnecting
  await new Promise((r) => setTimeout(r, 5_000));
  const requests = { ...inf.requests };
  await c.stop();
  await inf.stop();
  return {
    scenario: 'informer on the testbed (list + watch → queue)',
    workers,
    totalMs: m.ms,
    perKeyUs: (m.ms * 1000) / KEYS,
    cpuPerKeyUs: m.cpuUs / KEYS,
    keysPerSec: KEYS / (m.ms / 1000),
    peakRssMb: mb(m.peakRss),
    peakHeapMb: mb(m.peakHeap),
    listRequests: requests.list,
    watchRequests: requests.watch,
    syncMs,
  };
}

function machine(): string {
  let cpu = 'unknown CPU';
  try {
    cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpu;
  } catch {
    // not Linux
  }
  let load = '';
  try {
    load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    // not Linux
  }
  return `${availableParallelism()} CPUs (nproc), ${cpu}, Node ${process.version}${load ? `, load average at start ${load}` : ''}`;
}

function table(rows: Row[]): string {
  const fmt = (n: number | string | undefined, digits = 0) => (typeof n === 'number' ? n.toFixed(digits) : (n ?? ''));
  const lines = [
    '| scenario | workers | total ms | wall µs / key | CPU µs / key | keys/s | peak RSS MB | peak heap MB | time to sync ms | list requests | watch requests |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.scenario} | ${r.workers} | ${fmt(r.totalMs)} | ${fmt(r.perKeyUs, 1)} | ${fmt(r.cpuPerKeyUs, 1)} | ${fmt(r.keysPerSec)} | ${r.peakRssMb} | ${r.peakHeapMb} | ${fmt(r.syncMs)} | ${r.listRequests ?? ''} | ${r.watchRequests ?? ''} |`,
    );
  }
  return lines.join('\n');
}

console.log(`kube-iaas runtime benchmark: ${KEYS} keys through a no-op reconciler`);
console.log(`machine: ${machine()}`);
globalThis.gc?.();
console.log(
  `baseline after loading the runtime (client-node included): RSS ${mb(process.memoryUsage.rss())} MB, heap ${mb(process.memoryUsage().heapUsed)} MB\n`,
);
const rows: Row[] = [];
await queueAlone(4); // warm-up (JIT), not reported
for (const w of [1, 4, 16]) rows.push(await queueAlone(w));

const client = await testbedClient();
if (client) {
  const ns = `bench-${randomBytes(3).toString('hex')}`;
  await client.create(resources.Namespace, { metadata: { name: ns } });
  try {
    const createMs = await createConfigMaps(client, ns);
    console.log(`created ${KEYS} ConfigMaps in ${ns} in ${Math.round(createMs)}ms`);
    rows.push(await informerScenario(client, ns, 4));
  } finally {
    await client.delete(resources.Namespace, { name: ns }).catch(() => undefined);
    await client.close();
  }
}
console.log(table(rows));
console.log(
  '\nwall µs / key = total wall time / keys (enqueue → every reconcile done: dedup bookkeeping, metrics, worker hand-off);' +
    '\nCPU µs / key = process CPU time (user + system) over the same span / keys — the number that does not depend on other load.' +
    '\nInformer row: total = start of list → last reconcile; requests counted by the informer (each list page is one request; one watch).',
);
