// The node agent's Kubernetes source on the testbed: the real eni-operator annotates a pod bound to a node,
// and that node's agent answers the plugin's grant request with exactly that address; a pod of another node is
// not its. The agent runs in the machine's network namespace (it must reach the API server on 127.0.0.1): the
// moto ENIs' MACs match no link here, so the only thing it creates is its (empty) SNAT table, removed at the end
// unless it was there before.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { resources } from '@kube-iaas/core/runtime';
import { readState } from '@kube-iaas/testbed';
import { operatorKubeConfig, testbedKubeConfig } from '@kube-iaas/testbed/testing';
import { ask } from '../../src/node/protocol.ts';
import { IP_ANNOTATION, ROUTE_TABLE_ANNOTATION, ENI_ANNOTATION } from '../../src/constants.ts';
import { OperatorProcess, clients, waitFor, type Clients } from './harness.ts';
import { sh } from './cni-topology.ts';
import { NFT_TABLE } from '../../src/node/wiring.ts';

const AGENT = fileURLToPath(new URL('../../src/node/agent.ts', import.meta.url));
const NODE_BIN = fileURLToPath(new URL('../../../../node_modules/.bin/node', import.meta.url));
const NS = 'default';
const LABEL = 'cni-agent-it';
const hasTable = (): boolean => sh('nft', ['list', 'table', 'ip', NFT_TABLE]).status === 0;
const tableBefore = hasTable();

let c: Clients;
let op: OperatorProcess | undefined;
let agent: ChildProcess | undefined;
let work = '';
let nodes: V1Node[] = [];

const pod = (name: string, nodeName: string): V1Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: NS, labels: { app: LABEL } },
  spec: { nodeSelector: { 'kubernetes.io/hostname': nodeName }, containers: [{ name: 'c', image: 'nginx' }], terminationGracePeriodSeconds: 0 },
});
const listPods = async (): Promise<V1Pod[]> => (await c.kube.list<V1Pod>(resources.Pod, { namespace: NS, labelSelector: `app=${LABEL}` })).items;

describe('node agent with the Kubernetes source (testbed)', () => {
  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error('the CNI namespace tests need root (nftables); CI runs them as root');
    if (!readState()?.account) throw new Error('testbed account not seeded');
    c = clients();
    const account = readState()!.account!;
    const all = (await c.kube.list<V1Node>(resources.Node)).items;
    nodes = account.instanceIds.map((id) => all.find((n) => n.spec?.providerID?.endsWith(`/${id}`))!);
    op = await OperatorProcess.start(['--cooldown=2s']);
    work = mkdtempSync(join(tmpdir(), 'kube-iaas-cni-agent-'));
    const nodeName = nodes[0]!.metadata!.name!;
    // The agent's flags for a cluster it does not run in: the testbed's server, CA and client certificate.
    const kc = testbedKubeConfig();
    const cluster = kc.getCurrentCluster()!;
    const user = kc.getCurrentUser()!;
    const file = (name: string, b64: string | undefined): string => {
      writeFileSync(join(work, name), Buffer.from(b64 ?? '', 'base64'), { mode: 0o600 });
      return join(work, name);
    };
    // As itself: the node agent's own ServiceAccount (generated/node-rbac.yaml), its token as a projected one would be.
    const own = operatorKubeConfig('eni-operator-node').getCurrentUser();
    const kubeFlags = [`--kube-api-server=${cluster.server}`, `--kube-ca-file=${file('ca.crt', cluster.caData)}`,
      ...(own?.token ? [`--kube-token-file=${file('token', Buffer.from(own.token).toString('base64'))}`] : [`--kube-client-cert-file=${file('client.crt', user.certData)}`, `--kube-client-key-file=${file('client.key', user.keyData)}`])];
    // As deployed, with its compile cache warm (type stripping once, not at every start; see the README).
    const cacheEnv = { ...process.env, NODE_COMPILE_CACHE: join(work, 'cc') };
    sh(NODE_BIN, [AGENT, '--mtu=warm-up'], { env: cacheEnv });
    sh(NODE_BIN, ['-e', `await import(${JSON.stringify(new URL('../../src/node/agent/kube-source.ts', import.meta.url).href)}); await import(${JSON.stringify(new URL('../../src/node/agent/kube-watch.ts', import.meta.url).href)})`], { env: cacheEnv });
    agent = spawn(NODE_BIN, [AGENT, `--node-name=${nodeName}`, '--vpc-cidrs=192.168.192.0/22', `--socket=${join(work, 'agent.sock')}`,
      `--cni-bin-dir=${join(work, 'bin')}`, `--cni-conf-dir=${join(work, 'conf')}`, `--state-dir=${join(work, 'state')}`, `--compile-cache-dir=${join(work, 'cc')}`, ...kubeFlags],
    { stdio: ['ignore', 'pipe', 'pipe'], env: cacheEnv });
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`agent not ready in 60 s: ${log}`)), 60_000);
      agent!.stdout!.on('data', (d: Buffer) => {
        log += d.toString();
        if (log.includes('eni-agent ready')) { clearTimeout(timer); resolve(); }
      });
      agent!.stderr!.on('data', (d: Buffer) => (log += d.toString()));
      agent!.on('exit', (code) => { clearTimeout(timer); reject(new Error(`agent exited ${code}: ${log}`)); });
    });
  }, 180_000);

  afterAll(async () => {
    agent?.kill('SIGKILL');
    if (c) {
      for (const p of await listPods()) await c.kube.delete(resources.Pod, { name: p.metadata!.name!, namespace: NS });
      await waitFor('test pods gone', async () => (await listPods()).length === 0, 60_000);
    }
    await op?.stop();
    if (!tableBefore && hasTable()) sh('nft', ['delete', 'table', 'ip', NFT_TABLE]);
    if (work) rmSync(work, { recursive: true, force: true });
    expect(hasTable()).toBe(tableBefore);
  }, 120_000);

  it('answers with the address the operator annotated on a pod of its node; not for another node\'s pod', async () => {
    const [n1, n2] = [nodes[0]!.metadata!.name!, nodes[1]!.metadata!.name!];
    await c.kube.create(resources.Pod, pod('mine', n1));
    await c.kube.create(resources.Pod, pod('theirs', n2));
    const annotated = async (name: string): Promise<V1Pod | undefined> => {
      const p = (await listPods()).find((x) => x.metadata?.name === name);
      return p?.metadata?.annotations?.[IP_ANNOTATION] ? p : undefined;
    };
    await waitFor('both pods annotated', async () => Boolean((await annotated('mine')) && (await annotated('theirs'))), 60_000, 200);
    const mine = (await annotated('mine'))!.metadata!.annotations!;
    const socket = join(work, 'agent.sock');
    const res = await ask(socket, { op: 'grant', namespace: NS, name: 'mine', waitMs: 10_000 }, 15_000);
    expect(res, JSON.stringify(res)).toMatchObject({ ok: true, grant: { ip: mine[IP_ANNOTATION], eniId: mine[ENI_ANNOTATION], routeTable: Number(mine[ROUTE_TABLE_ANNOTATION]), vpcCidrs: ['192.168.192.0/22'] } });
    const primary = nodes[0]!.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    expect(res.ok && res.grant?.primaryIp).toBe(primary);
    const other = await ask(socket, { op: 'grant', namespace: NS, name: 'theirs', waitMs: 1500 }, 10_000);
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${agent!.pid}/status`, 'utf8'))?.[1]) / 1024;
    console.log(`node agent RSS with the Kubernetes source, idle (3 nodes' testbed, 1 pod on its node): ${rss.toFixed(1)} MiB`);
    expect(rss).toBeLessThan(80);
    expect(other).toMatchObject({ ok: false, code: 101, msg: expect.stringMatching(new RegExp(`^pod default/theirs: no address granted within 2 s; pool ${n1.replace(/\./g, '\\.')}: Ready=`)) });
  });
});
