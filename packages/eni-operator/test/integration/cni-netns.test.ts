// The CNI plugin and node agent in network namespaces, with cnitool (the CNI reference client) as the
// runtime: two nodes, a primary and a secondary ENI, a VPC of bridges and an outside router, all made of
// namespaces this test creates and deletes. Needs root (CI runs as root).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeView } from '../../src/node/agent/view.ts';
import { buildTopology, destroy, exec, must, netnsList, ping, sh, snapshot, txPackets, vpcDeliver, type Topology } from './cni-topology.ts';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const AGENT = fileURLToPath(new URL('../../src/node/agent.ts', import.meta.url));
const prefix = `kit${process.pid % 100000}`;
const NET = `${prefix}-net`;
const CNI_RESULTS = '/var/lib/cni/results';
/** cnitool caches results under /var/lib/cni; the directories it creates go again if they were not there. */
const cniDirsBefore = ['/var/lib/cni', CNI_RESULTS].filter((d) => existsSync(d));

const MAC = { n1e0: '02:aa:00:00:01:00', n1e1: '02:aa:00:00:01:01', n1e2: '02:aa:00:00:01:02', n2e0: '02:aa:00:00:02:00' };
const POD_A = '192.168.193.10'; // node 1, primary ENI
const POD_B = '192.168.193.51'; // node 1, secondary ENI (device index 1, table 2)
const POD_C = '192.168.195.40'; // node 2, primary ENI

function view(node: string, primaryIp: string, enis: NodeView['enis'], pods: NodeView['pods']): NodeView {
  return {
    nodeName: node,
    primaryIp,
    vpcCidrs: ['192.168.192.0/22'],
    enis,
    conditions: [{ type: 'Ready', status: 'False', reason: 'AddressLimitReached', message: 'node is out of pod addresses (4/4 in use)' }],
    pods,
  };
}
const ann = (ip: string, eni: string, di: number): Record<string, string> => ({
  'network.kube-iaas.dev/ip': ip,
  'network.kube-iaas.dev/eni': eni,
  'network.kube-iaas.dev/device-index': String(di),
  'network.kube-iaas.dev/route-table': String(di === 0 ? 254 : di + 1),
});

interface Node { ns: string; dir: string; agent?: ChildProcess }
const nodes: Record<string, Node> = {};
let topo: Topology | undefined;
let cnitoolDir = '';
let work = '';
/** Every namespace this test made, in the order made; afterAll deletes them all. */
const created: string[] = [];
const namespacesBefore = netnsList();
const pluginMs: Record<string, number[]> = { ADD: [], DEL: [] };
const wallMs: Record<string, number[]> = { ADD: [], DEL: [] };
const stepMs: Record<string, number[]> = {};

function cnitool(node: string, cmd: 'add' | 'del' | 'check' | 'status', podNs: string, pod: string): { ok: boolean; out: string; err: string } {
  const n = nodes[node]!;
  const env = { ...process.env, CNI_PATH: join(n.dir, 'bin'), NETCONFPATH: join(n.dir, 'conf'), CNI_IFNAME: 'eth0', CNI_ARGS: `K8S_POD_NAMESPACE=${pod.split('/')[0]};K8S_POD_NAME=${pod.split('/')[1]}` };
  const t = performance.now();
  const r = sh('ip', ['netns', 'exec', n.ns, join(cnitoolDir, 'cnitool'), cmd, NET, podNs.startsWith('/') ? podNs : `/var/run/netns/${podNs}`], { env, timeoutMs: 40_000 });
  const took = performance.now() - t;
  const m = /kube-iaas-eni (ADD|DEL) took ([\d.]+) ms \(process ([\d.]+) ms(?:; ([^)]*))?\)/.exec(r.stderr);
  if (m?.[4]) for (const [k, v] of m[4].split(', ').map((x) => x.split(' '))) (stepMs[k!] ??= []).push(Number(v));
  if (m && r.status === 0) {
    pluginMs[m[1]!]!.push(Number(m[3]));
    wallMs[m[1]!]!.push(took);
  }
  return { ok: r.status === 0, out: r.stdout, err: r.stderr };
}

function podNetns(name: string): string {
  const ns = `${prefix}-${name}`;
  must('ip', ['netns', 'add', ns]);
  created.push(ns);
  return ns;
}

async function startAgent(key: string, v: NodeView, extra: string[] = []): Promise<void> {
  const n = nodes[key]!;
  mkdirSync(n.dir, { recursive: true });
  writeFileSync(join(n.dir, 'view.json'), JSON.stringify(v));
  const node = join(ROOT, 'node_modules/.bin/node');
  const p = spawn('ip', ['netns', 'exec', n.ns, node, AGENT, `--grants-file=${join(n.dir, 'view.json')}`, `--socket=${join(n.dir, 'agent.sock')}`,
    `--cni-bin-dir=${join(n.dir, 'bin')}`, `--cni-conf-dir=${join(n.dir, 'conf')}`, `--state-dir=${join(n.dir, 'state')}`,
    `--compile-cache-dir=${join(work, 'compile-cache')}`, `--network-name=${NET}`, `--node-name=${key}`, ...extra],
  { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_COMPILE_CACHE: join(work, 'compile-cache') } });
  n.agent = p;
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent ${key} not ready in 15 s: ${log}`)), 15_000);
    p.stdout.on('data', (d: Buffer) => {
      log += d.toString();
      if (log.includes('eni-agent ready')) { clearTimeout(timer); resolve(); }
    });
    p.stderr.on('data', (d: Buffer) => (log += d.toString()));
    p.on('exit', (c) => { clearTimeout(timer); reject(new Error(`agent ${key} exited ${c}: ${log}`)); });
  });
}

/** A counter per source of echo requests arriving in a namespace: evidence of the source address without capturing packets. */
const seenTable = (sources: string[]): string =>
  `table ip seen {\n chain in {\n  type filter hook input priority 0;\n${sources.map((x) => `  icmp type echo-request ip saddr ${x} counter\n`).join('')} }\n}\n`;

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : NaN;
};

describe('CNI plugin and node agent in network namespaces (cnitool as the runtime)', () => {
  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error('the CNI namespace tests need root (network namespaces, links, nftables); CI runs them as root');
    must('bash', [join(ROOT, 'testbed/scripts/install-net-tools.sh')]);
    cnitoolDir = must('bash', [join(ROOT, 'testbed/scripts/build-cni-tools.sh')]).trim().split('\n').pop()!;
    work = mkdtempSync(join(tmpdir(), 'kube-iaas-cni-'));
    topo = buildTopology(prefix, { a: '192.168.193.1/24', b: '192.168.195.1/24' }, [
      { key: 'n1', subnet: 'a', primaryIp: '192.168.193.194', prefixLen: 24, gateway: '192.168.193.1', enis: [['eth0', MAC.n1e0], ['eth1', MAC.n1e1]] },
      { key: 'n2', subnet: 'b', primaryIp: '192.168.195.30', prefixLen: 24, gateway: '192.168.195.1', enis: [['eth0', MAC.n2e0]] },
    ], created);
    for (const k of ['n1', 'n2']) nodes[k] = { ns: topo.nodes[k]!, dir: join(work, k) };
    // As a DaemonSet with its compile cache on the host: type stripping happens once, not at every start
    // (a flag error exits right after loading every module the file source needs).
    sh(join(ROOT, 'node_modules/.bin/node'), [AGENT, '--mtu=warm-up'], { env: { ...process.env, NODE_COMPILE_CACHE: join(work, 'compile-cache') } });
    await startAgent('n1', view('n1', '192.168.193.194', [
      { eniId: 'eni-n1a', deviceIndex: 0, macAddress: MAC.n1e0, subnetCidr: '192.168.193.0/24', primaryIp: '192.168.193.194', secondaryIps: [POD_A, '192.168.193.11'] },
      { eniId: 'eni-n1b', deviceIndex: 1, macAddress: MAC.n1e1, subnetCidr: '192.168.193.0/24', primaryIp: '192.168.193.50', secondaryIps: [POD_B, '192.168.193.52'] },
      { eniId: 'eni-n1c', deviceIndex: 2, macAddress: MAC.n1e2, subnetCidr: '192.168.193.0/24', primaryIp: '192.168.193.60', secondaryIps: ['192.168.193.61'] },
    ], {
      'default/pod-a': ann(POD_A, 'eni-n1a', 0),
      'default/pod-b': ann(POD_B, 'eni-n1b', 1),
      'default/pod-loop': ann('192.168.193.11', 'eni-n1a', 0),
      'bad/not-in-pool': ann('192.168.193.99', 'eni-n1a', 0),
      'bad/no-link': ann('192.168.193.61', 'eni-n1c', 2),
    }), ['--grant-timeout=2']);
    await startAgent('n2', view('n2', '192.168.195.30', [
      { eniId: 'eni-n2a', deviceIndex: 0, macAddress: MAC.n2e0, subnetCidr: '192.168.195.0/24', primaryIp: '192.168.195.30', secondaryIps: [POD_C] },
    ], { 'default/pod-c': ann(POD_C, 'eni-n2a', 0) }));
    // Counters the assertions read: what source addresses arrive outside and at node 2's pod.
    must('ip', ['netns', 'exec', topo.router, 'nft', '-f', '-'], seenTable(['192.168.193.194', `{ ${POD_A}, ${POD_B} }`]));
  }, 300_000);

  afterAll(() => {
    for (const n of Object.values(nodes)) n.agent?.kill('SIGKILL');
    destroy(created);
    if (existsSync(CNI_RESULTS)) for (const f of readdirSync(CNI_RESULTS)) if (f.startsWith(`${NET}-`)) rmSync(join(CNI_RESULTS, f), { force: true });
    for (const d of [CNI_RESULTS, '/var/lib/cni']) if (!cniDirsBefore.includes(d) && existsSync(d) && readdirSync(d).length === 0) rmdirSync(d);
    if (work) rmSync(work, { recursive: true, force: true });
    expect(netnsList().sort()).toEqual(namespacesBefore.sort());
    if (pluginMs['ADD']!.length) {
      console.log(`plugin run time (process start → exit, ms): ADD p50 ${pct(pluginMs['ADD']!, 50).toFixed(1)} p99 ${pct(pluginMs['ADD']!, 99).toFixed(1)} (n=${pluginMs['ADD']!.length}); DEL p50 ${pct(pluginMs['DEL']!, 50).toFixed(1)} p99 ${pct(pluginMs['DEL']!, 99).toFixed(1)}; cnitool ADD wall p50 ${pct(wallMs['ADD']!, 50).toFixed(1)} p99 ${pct(wallMs['ADD']!, 99).toFixed(1)}; ADD steps p50/p99: ${Object.entries(stepMs).map(([k, v]) => `${k} ${pct(v, 50).toFixed(1)}/${pct(v, 99).toFixed(1)}`).join(', ')}`);
    }
  });

  let before1 = '';
  let before2 = '';

  it('installs the plugin and conflist, and STATUS/VERSION answer', () => {
    const n = nodes['n1']!;
    expect(existsSync(join(n.dir, 'bin', 'kube-iaas-eni'))).toBe(true);
    expect(existsSync(join(n.dir, 'conf', `10-${NET}.conflist`))).toBe(true);
    expect(cnitool('n1', 'status', '/nonexistent', 'x/y').ok).toBe(true);
    const v = sh(join(n.dir, 'bin', 'kube-iaas-eni'), [], { env: { ...process.env, CNI_COMMAND: 'VERSION' }, input: '{}' });
    expect(JSON.parse(v.stdout)).toMatchObject({ cniVersion: '1.1.0', supportedVersions: expect.arrayContaining(['1.1.0']) });
    // The agent brought the secondary ENI up with its table; the missing third ENI is not invented.
    expect(must('ip', ['-n', n.ns, 'route', 'show', 'table', '2'])).toContain('default via 192.168.193.1 dev eth1');
    before1 = snapshot(nodes['n1']!.ns);
    before2 = snapshot(nodes['n2']!.ns);
  });

  it('ADD wires a pod on the primary ENI, one on a secondary ENI and one on another node (CNI 1.1 results)', () => {
    for (const [node, pod, ns] of [['n1', 'default/pod-a', 'pod-a'], ['n1', 'default/pod-b', 'pod-b'], ['n2', 'default/pod-c', 'pod-c']] as const) {
      const r = cnitool(node, 'add', podNetns(ns), pod);
      expect(r.err).not.toContain('"code"');
      expect(r.ok, r.out + r.err).toBe(true);
      const res = JSON.parse(r.out) as { cniVersion: string; ips: { address: string; gateway: string }[] };
      expect(res.cniVersion).toBe('1.1.0');
      expect(res.ips[0]).toMatchObject({ gateway: '169.254.1.1' });
    }
    vpcDeliver(nodes['n1']!.ns, POD_A, 'eth0');
    vpcDeliver(nodes['n1']!.ns, POD_B, 'eth1');
    vpcDeliver(nodes['n2']!.ns, POD_C, 'eth0');
    const a = `${prefix}-pod-a`;
    expect(must('ip', ['-n', a, 'addr', 'show', 'dev', 'eth0'])).toContain(`inet ${POD_A}/32`);
    expect(must('ip', ['-n', a, 'route'])).toMatch(/default via 169\.254\.1\.1 dev eth0/);
    expect(must('ip', ['-n', a, 'neigh'])).toMatch(/169\.254\.1\.1 dev eth0 lladdr [0-9a-f:]+ PERMANENT/);
    expect(must('ip', ['-n', a, 'link', 'show', 'eth0'])).toContain('mtu 9001');
    expect(must('ip', ['-n', nodes['n1']!.ns, 'rule'])).toContain(`from ${POD_B} to 192.168.192.0/22 lookup 2`);
  });

  it('pods on the primary and a secondary ENI reach each other and a pod on another node', () => {
    const [a, b, c] = ['pod-a', 'pod-b', 'pod-c'].map((p) => `${prefix}-${p}`) as [string, string, string];
    expect(ping(a, POD_B)).toBe(true);
    expect(ping(b, POD_A)).toBe(true);
    expect(ping(a, POD_C)).toBe(true);
    expect(ping(b, POD_C)).toBe(true);
    expect(ping(c, POD_A)).toBe(true);
    expect(ping(c, POD_B)).toBe(true);
  });

  it('traffic from the secondary-ENI pod into the VPC leaves through that ENI; the primary-ENI pod\'s and all outside traffic through eth0', () => {
    const n1 = nodes['n1']!.ns;
    const tx = (): [number, number] => [txPackets(n1, 'eth0'), txPackets(n1, 'eth1')];
    let [e0, e1] = tx();
    expect(ping(`${prefix}-pod-b`, POD_C, 5)).toBe(true);
    let [e0b, e1b] = tx();
    expect(e1b - e1).toBeGreaterThanOrEqual(5);
    expect(e0b - e0).toBeLessThan(5);
    [e0, e1] = tx();
    expect(ping(`${prefix}-pod-a`, POD_C, 5)).toBe(true);
    [e0b, e1b] = tx();
    expect(e0b - e0).toBeGreaterThanOrEqual(5);
    expect(e1b - e1).toBeLessThan(5);
    // Leaving the VPC, the secondary pod's traffic goes out the primary ENI, whose address the SNAT gives it.
    [e0, e1] = tx();
    expect(ping(`${prefix}-pod-b`, topo!.outsideIp, 5)).toBe(true);
    [e0b, e1b] = tx();
    expect(e0b - e0).toBeGreaterThanOrEqual(5);
    expect(e1b - e1).toBeLessThan(5);
  });

  it('traffic to the outside arrives from the node\'s primary address; inside the VPC it keeps the pod\'s', () => {
    const r = topo!.router;
    const counters = (): number[] => [...exec(r, ['nft', 'list', 'table', 'ip', 'seen']).stdout.matchAll(/packets (\d+)/g)].map((m) => Number(m[1]));
    const [snat0, pod0] = counters() as [number, number];
    expect(ping(`${prefix}-pod-a`, topo!.outsideIp, 2)).toBe(true);
    expect(ping(`${prefix}-pod-b`, topo!.outsideIp, 2)).toBe(true);
    const [snat1, pod1] = counters() as [number, number];
    expect(snat1 - snat0).toBe(4);
    expect(pod1 - pod0).toBe(0);
    // Inside the VPC: node 2's pod sees pod-b's own address (its conntrack would show the SNAT otherwise).
    const c = `${prefix}-pod-c`;
    must('ip', ['netns', 'exec', c, 'nft', '-f', '-'], seenTable([POD_B, '192.168.193.194']));
    expect(ping(`${prefix}-pod-b`, POD_C, 3)).toBe(true);
    const [own, snat] = [...exec(c, ['nft', 'list', 'table', 'ip', 'seen']).stdout.matchAll(/packets (\d+)/g)].map((m) => Number(m[1]));
    expect(own).toBe(3);
    expect(snat).toBe(0);
  });

  it('CHECK passes, then fails naming the host route removed by hand', () => {
    expect(cnitool('n1', 'check', `${prefix}-pod-b`, 'default/pod-b').ok).toBe(true);
    const veth = JSON.parse(must('ip', ['-n', nodes['n1']!.ns, '-j', 'route', 'show', `${POD_B}/32`])) as { dev: string }[];
    must('ip', ['-n', nodes['n1']!.ns, 'route', 'del', `${POD_B}/32`, 'dev', veth[0]!.dev]);
    const r = cnitool('n1', 'check', `${prefix}-pod-b`, 'default/pod-b');
    expect(r.ok).toBe(false);
    expect(r.err + r.out).toContain(`host route ${POD_B}/32`);
    expect(r.err + r.out).toContain('default/pod-b');
  });

  it('bad input fails naming it and leaves nothing half-wired', () => {
    const n1 = nodes['n1']!.ns;
    const s0 = snapshot(n1);
    const notInPool = cnitool('n1', 'add', podNetns('bad1'), 'bad/not-in-pool');
    expect(notInPool.ok).toBe(false);
    expect(notInPool.err + notInPool.out).toMatch(/bad\/not-in-pool.*192\.168\.193\.99 is not in node n1's pool/);
    const noNetns = cnitool('n1', 'add', '/var/run/netns/kit-does-not-exist', 'default/pod-a');
    expect(noNetns.ok).toBe(false);
    expect(noNetns.err + noNetns.out).toContain('netns /var/run/netns/kit-does-not-exist does not exist');
    const noLink = cnitool('n1', 'add', podNetns('bad2'), 'bad/no-link');
    expect(noLink.ok).toBe(false);
    expect(noLink.err + noLink.out).toMatch(/bad\/no-link.*ENI eni-n1c .*has no link on node n1/);
    const never = cnitool('n1', 'add', podNetns('bad3'), 'bad/never-granted');
    expect(never.ok).toBe(false);
    expect(never.err + never.out).toMatch(/bad\/never-granted: no address granted within 2 s; pool n1: Ready=False\/AddressLimitReached/);
    expect(snapshot(n1)).toBe(s0);
    for (const p of ['bad1', 'bad2', 'bad3']) expect(must('ip', ['-n', `${prefix}-${p}`, '-o', 'link']).trim().split('\n')).toHaveLength(1);
  });

  it('DEL removes every link, route, rule and NAT entry; again and with the netns gone it still succeeds', () => {
    expect(cnitool('n1', 'del', `${prefix}-pod-a`, 'default/pod-a').ok).toBe(true);
    expect(cnitool('n1', 'del', `${prefix}-pod-a`, 'default/pod-a').ok).toBe(true);
    destroy([`${prefix}-pod-b`]);
    expect(cnitool('n1', 'del', `${prefix}-pod-b`, 'default/pod-b').ok).toBe(true);
    expect(cnitool('n2', 'del', `${prefix}-pod-c`, 'default/pod-c').ok).toBe(true);
    // The proxy neighbour entries are the VPC's (the test's), not the plugin's.
    for (const [ns, ip, dev] of [[nodes['n1']!.ns, POD_A, 'eth0'], [nodes['n1']!.ns, POD_B, 'eth1'], [nodes['n2']!.ns, POD_C, 'eth0']] as const) {
      must('ip', ['-n', ns, 'neigh', 'del', 'proxy', ip, 'dev', dev]);
    }
    expect(snapshot(nodes['n1']!.ns)).toBe(before1);
    expect(snapshot(nodes['n2']!.ns)).toBe(before2);
    expect(readdirSync(join(nodes['n1']!.dir, 'state'))).toEqual([]);
  });

  it('the agent stays small: RSS idle under 80 MiB', () => {
    const pid = nodes['n1']!.agent!.pid!;
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
    console.log(`node agent RSS idle after serving 4 pods: ${rss.toFixed(1)} MiB`);
    expect(rss).toBeLessThan(80);
  });

  it('ADD then DEL, 20 times: run time of the plugin', () => {
    const ns = podNetns('loop');
    for (let i = 0; i < 20; i++) {
      expect(cnitool('n1', 'add', ns, 'default/pod-loop').ok).toBe(true);
      expect(cnitool('n1', 'del', ns, 'default/pod-loop').ok).toBe(true);
    }
    expect(snapshot(nodes['n1']!.ns)).toBe(before1);
    expect(pct(pluginMs['ADD']!, 50)).toBeLessThan(1000);
  });
});
