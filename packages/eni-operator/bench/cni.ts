// The node half on the testbed: pod bound → CNI ADD returned, with the node simulator playing kubelet (it runs
// the real plugin through cnitool in the node's namespace and logs each ADD with the time it returned), and the
// node agent's resident memory idle and with 110 pods on its node. Needs the simulator's pod network (root).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { V1Pod } from '@kubernetes/client-node';
import { Informer, resources } from '@kube-iaas/core/runtime';
import { IP_ANNOTATION } from '../src/constants.ts';
import { waitFor, type Clients } from '../test/integration/harness.ts';

const NS = 'default';
const LABEL = 'eni-bench-cni';
const testbedDir = process.env.KUBE_IAAS_TESTBED_DIR ?? fileURLToPath(new URL('../../../.testbed', import.meta.url));
const simLog = join(testbedDir, 'logs', 'node-simulator.log');

interface AddLine { pod: string; ok: boolean; returnedAt: number; cnitoolMs?: number; pluginMs?: number }
function adds(): Map<string, AddLine> {
  const out = new Map<string, AddLine>();
  for (const line of readFileSync(simLog, 'utf8').split('\n')) {
    if (!line.includes('"CNI ADD"')) continue;
    const l = JSON.parse(line) as AddLine;
    if (l.ok && !out.has(l.pod)) out.set(l.pod, l);
  }
  return out;
}

/** The node agent of `node` (a child of the simulator, found by its command line) and its VmRSS in MiB. */
export function agentRss(node: string): number {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!cmd.includes('node/agent.ts') || !cmd.includes(`--node-name=${node}\0`)) continue;
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
  }
  return NaN;
}

const pod = (name: string, node: string): V1Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS, labels: { app: LABEL } }, spec: { nodeName: node, containers: [{ name: 'c', image: 'nginx' }], terminationGracePeriodSeconds: 0 } });

export interface CniBenchResult {
  boundToAnnotation: number[];
  boundToAdd: number[];
  annotationToAdd: number[];
  cnitool: number[];
  plugin: number[];
  names: string[];
  rssIdle: number;
  rss110: number;
  running110: number;
}

/** `n` pods one after the other on a warm pool of `node`, then 110 at once for the agent's memory. */
export async function cniBench(c: Clients, node: string, n: number): Promise<CniBenchResult> {
  const list = async (): Promise<V1Pod[]> => (await c.kube.list<V1Pod>(resources.Pod, { namespace: NS, labelSelector: `app=${LABEL}` })).items;
  const clean = async (): Promise<void> => {
    for (const p of await list()) await c.kube.delete(resources.Pod, { name: p.metadata!.name!, namespace: NS });
    await waitFor('cni bench pods gone', async () => (await list()).length === 0, 120_000, 500);
  };
  await clean();
  const annotated = new Map<string, number>();
  const running = new Map<string, () => void>();
  const look = (p: V1Pod): void => {
    const name = p.metadata!.name!;
    if (p.metadata?.annotations?.[IP_ANNOTATION] && !annotated.has(name)) annotated.set(name, Date.now());
    if (p.status?.podIP && p.status.phase === 'Running') running.get(name)?.();
  };
  const watch = new Informer<V1Pod>(c.kube, resources.Pod, { namespace: NS, labelSelector: `app=${LABEL}` });
  watch.on({ add: look, update: look });
  await watch.start();
  await watch.waitForSync(30_000);
  const r: CniBenchResult = { boundToAnnotation: [], boundToAdd: [], annotationToAdd: [], cnitool: [], plugin: [], names: [], rssIdle: agentRss(node), rss110: NaN, running110: 0 };
  try {
    const bound = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const name = `${LABEL}-${i}`;
      const up = new Promise<void>((res) => running.set(name, res));
      bound.set(name, Date.now());
      await c.kube.create(resources.Pod, pod(name, node));
      await Promise.race([up, new Promise((_, rej) => setTimeout(() => rej(new Error(`${name} not Running in 60 s`)), 60_000))]);
      r.names.push(name);
    }
    const a = adds();
    for (const name of r.names) {
      const l = a.get(`${NS}/${name}`);
      const t0 = bound.get(name)!;
      if (!l) continue;
      r.boundToAdd.push(l.returnedAt - t0);
      if (annotated.has(name)) {
        r.boundToAnnotation.push(annotated.get(name)! - t0);
        r.annotationToAdd.push(l.returnedAt - annotated.get(name)!);
      }
      if (l.cnitoolMs !== undefined) r.cnitool.push(l.cnitoolMs);
      if (l.pluginMs !== undefined) r.plugin.push(l.pluginMs);
    }
    await clean();
    // 110 pods on the node (the kubelet default max-pods; the c5.xlarge's pool serves 56, the rest wait with
    // their ADD asking the agent): what the agent holds with a full node.
    for (let i = 0; i < 110; i += 10) await Promise.all(Array.from({ length: 10 }, (_, j) => c.kube.create(resources.Pod, pod(`${LABEL}-full-${i + j}`, node))));
    await waitFor('pool served', async () => (await list()).filter((p) => p.status?.phase === 'Running').length >= 56, 300_000, 2000).catch(() => undefined);
    await new Promise((res) => setTimeout(res, 5000));
    r.running110 = (await list()).filter((p) => p.status?.phase === 'Running').length;
    r.rss110 = agentRss(node);
  } finally {
    await clean().catch(() => undefined);
    watch.stop();
  }
  return r;
}
