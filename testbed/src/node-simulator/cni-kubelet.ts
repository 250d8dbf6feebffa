// The simulator's kubelet part for pod networking: each Node is a network namespace (net-topology.ts)
// running the eni-operator's node agent with the Kubernetes source, and each pod gets a named netns
// wired by the real CNI plugin through cnitool (ADD at start, DEL at deletion). A pod's status.podIP is
// then the address configured in its namespace.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, writeFileSync, rmSync, readdirSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { CustomObjectsApi, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { DescribeNetworkInterfacesCommand, DescribeSubnetsCommand, DescribeVpcsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import type { NodeAgent } from './node-agent.ts';
import { nodeNameFor, type SimInstance } from './node-object.ts';
import { NetTopology, sh, type EniLink } from './net-topology.ts';
import { cniRun, podNetnsName, type CniEnv } from './cni-run.ts';

export interface CniKubeletOptions {
  kc: KubeConfig;
  ec2: EC2Client;
  cluster: string;
  log: (msg: string, fields?: Record<string, unknown>) => void;
  /** Start of every name this testbed puts on the machine (namespaces, network name, result files). */
  prefix: string;
  /** The simulator's directory for the agents (plugin, conflist, sockets, state, logs). */
  root: string;
  cnitoolDir: string;
  agentMain: string;
  /** The conflist's wait for a grant, seconds. */
  grantTimeoutSeconds?: number;
  /** Unannotated pods on a node whose pool is not at its limit get the placeholder address after this long (no eni-operator serves it). */
  unservedAfterMs?: number;
}

type PodNet =
  | { state: 'adding'; done: Promise<void>; lastError?: string }
  | { state: 'ready'; ip: string; netns: string }
  | { state: 'failed'; message: string; netns: string }
  | { state: 'placeholder' };

const IP_ANNOTATION = 'network.kube-iaas.dev/ip';

export class CniKubelet implements NodeAgent {
  private readonly o: CniKubeletOptions;
  private readonly topo: NetTopology;
  private readonly agents = new Map<string, ChildProcess>();
  private readonly pods = new Map<string, PodNet>();
  private readonly firstSeen = new Map<string, number>();
  /** Node name → the pool's Ready condition as `status/reason` ('' without one). */
  private pools = new Map<string, string>();
  private readonly instances = new Map<string, SimInstance>();
  private relay: Server | undefined;
  private vpcCidrs: string[] = [];
  private subnets = new Map<string, string>();
  private env: CniEnv;
  /** Called when a pod's ADD finished, so its status follows at once rather than at the next poll. */
  wake: (namespace: string, name: string) => void = () => undefined;

  constructor(o: CniKubeletOptions) {
    this.o = o;
    this.topo = new NetTopology(o.prefix);
    this.env = { cnitool: join(o.cnitoolDir, 'cnitool'), network: o.prefix, root: o.root };
  }

  private dir(inst: SimInstance): string {
    return join(this.o.root, inst.instanceId);
  }

  async start(): Promise<void> {
    const subnets = (await this.o.ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'tag-key', Values: [`kubernetes.io/cluster/${this.o.cluster}`] }] }))).Subnets ?? [];
    const vpcIds = [...new Set(subnets.map((s) => s.VpcId!).filter(Boolean))];
    if (!vpcIds.length) throw new Error(`no subnet tagged kubernetes.io/cluster/${this.o.cluster} yet`);
    const vpcs = (await this.o.ec2.send(new DescribeVpcsCommand({ VpcIds: vpcIds }))).Vpcs ?? [];
    this.vpcCidrs = vpcs.flatMap((v) => (v.CidrBlockAssociationSet ?? []).map((a) => a.CidrBlock!).filter(Boolean));
    rmSync(this.o.root, { recursive: true, force: true });
    mkdirSync(this.o.root, { recursive: true });
    this.removeResults();
    this.topo.create(this.vpcCidrs);
    for (const s of subnets) this.subnets.set(s.SubnetId!, s.CidrBlock!);
    this.writeCredentials();
    // The agents' namespaces cannot reach 127.0.0.1: a unix socket (namespace-independent) relays to the API server.
    const server = new URL(this.o.kc.getCurrentCluster()!.server);
    this.relay = createServer((c) => {
      const up = createConnection(Number(server.port || 443), server.hostname.replace(/^\[|\]$/g, ''));
      c.pipe(up).pipe(c);
      c.on('error', () => up.destroy());
      up.on('error', () => c.destroy());
    });
    await new Promise<void>((r) => this.relay!.listen(join(this.o.root, 'kube.sock'), r));
    this.o.log('CNI: each node is a network namespace running the eni agent; pods get a netns wired through cnitool', { prefix: this.o.prefix, vpcCidrs: this.vpcCidrs });
  }

  private writeCredentials(): void {
    const cluster = this.o.kc.getCurrentCluster()!;
    const user = this.o.kc.getCurrentUser()!;
    const put = (name: string, data: string | undefined): void => writeFileSync(join(this.o.root, name), Buffer.from(data ?? '', 'base64'), { mode: 0o600 });
    put('ca.crt', cluster.caData);
    put('client.crt', user.certData);
    put('client.key', user.keyData);
  }

  private removeResults(): void {
    const dir = '/var/lib/cni/results';
    try {
      for (const f of readdirSync(dir)) if (f.startsWith(`${this.o.prefix}-`)) rmSync(join(dir, f), { force: true });
    } catch {
      // no results yet
    }
  }

  async stop(): Promise<void> {
    this.instances.clear();
    for (const a of this.agents.values()) a.kill('SIGKILL');
    this.agents.clear();
    this.relay?.close();
    this.topo.destroy();
    this.removeResults();
    rmSync(this.o.root, { recursive: true, force: true });
  }

  async nodeAdded(inst: SimInstance): Promise<void> {
    const node = nodeNameFor(inst);
    this.instances.set(node, inst);
    this.topo.addNode(node, `${this.o.prefix}-node-${node.split('.')[0]}`);
    await this.syncEnis([inst]);
    this.startAgent(inst);
  }

  private startAgent(inst: SimInstance): void {
    const node = nodeNameFor(inst);
    const dir = this.dir(inst);
    mkdirSync(dir, { recursive: true });
    const r = this.o.root;
    const server = this.o.kc.getCurrentCluster()!.server;
    const log = openSync(join(dir, 'agent.log'), 'a');
    const child = spawn('ip', ['netns', 'exec', this.topo.nodeNs(node)!, process.execPath, this.o.agentMain, `--node-name=${node}`, `--vpc-cidrs=${this.vpcCidrs.join(',')}`,
      `--kube-api-server=${server}`, `--kube-api-socket=${join(r, 'kube.sock')}`, `--kube-ca-file=${join(r, 'ca.crt')}`, `--kube-client-cert-file=${join(r, 'client.crt')}`,
      `--kube-client-key-file=${join(r, 'client.key')}`, `--socket=${join(dir, 'agent.sock')}`, `--cni-bin-dir=${join(dir, 'bin')}`, `--cni-conf-dir=${join(dir, 'conf')}`,
      `--state-dir=${join(dir, 'state')}`, `--compile-cache-dir=${join(r, 'compile-cache')}`, `--network-name=${this.o.prefix}`, `--grant-timeout=${this.o.grantTimeoutSeconds ?? 10}`],
    { stdio: ['ignore', log, log], env: { ...process.env, NODE_COMPILE_CACHE: join(r, 'compile-cache') } });
    closeSync(log);
    child.on('exit', (code, signal) => {
      if (this.agents.get(node) !== child) return;
      this.agents.delete(node);
      this.o.log('eni agent exited; restarting it', { node, code, signal });
      setTimeout(() => this.instances.has(node) && !this.agents.has(node) && this.startAgent(inst), 1000).unref();
    });
    this.agents.set(node, child);
  }

  async nodeRemoved(inst: SimInstance): Promise<void> {
    const node = nodeNameFor(inst);
    this.instances.delete(node);
    const a = this.agents.get(node);
    this.agents.delete(node);
    a?.kill('SIGKILL');
    for (const n of sh('ip', ['netns', 'list']).stdout.split('\n').map((l) => l.split(' ')[0] ?? '')) {
      if (n.startsWith(`${this.o.prefix}-pod-`) && this.netnsNode.get(n) === node) sh('ip', ['netns', 'del', n]);
    }
    this.topo.removeNode(node);
    rmSync(this.dir(inst), { recursive: true, force: true });
  }

  private readonly netnsNode = new Map<string, string>();

  async sync(): Promise<void> {
    await this.syncEnis([...this.instances.values()]);
    await this.listPools();
  }

  private poolsAt = 0;

  private async listPools(): Promise<void> {
    this.poolsAt = Date.now();
    const res = (await this.o.kc.makeApiClient(CustomObjectsApi)
      .listClusterCustomObject({ group: 'network.kube-iaas.dev', version: 'v1alpha1', plural: 'enipools' })
      .catch(() => ({ items: [] }))) as { items?: { metadata?: { name?: string }; status?: { conditions?: { type: string; status: string; reason?: string }[] } }[] };
    this.pools = new Map((res.items ?? []).map((p) => {
      const ready = p.status?.conditions?.find((c) => c.type === 'Ready');
      return [p.metadata?.name ?? '', ready ? `${ready.status}/${ready.reason ?? ''}` : ''];
    }));
  }

  private async syncEnis(insts: SimInstance[]): Promise<void> {
    if (!insts.length) return;
    const res = await this.o.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: insts.map((i) => i.instanceId) }] }));
    const by = new Map<string, EniLink[]>(insts.map((i) => [i.instanceId, []]));
    for (const e of res.NetworkInterfaces ?? []) {
      const id = e.Attachment?.InstanceId;
      if (!id || !by.has(id) || !e.MacAddress || e.Attachment?.DeviceIndex === undefined) continue;
      let cidr = this.subnets.get(e.SubnetId ?? '');
      if (!cidr) {
        const s = (await this.o.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [e.SubnetId!] }))).Subnets?.[0];
        cidr = s?.CidrBlock ?? '';
        this.subnets.set(e.SubnetId!, cidr);
      }
      const addrs = e.PrivateIpAddresses ?? [];
      by.get(id)!.push({
        eniId: e.NetworkInterfaceId!,
        deviceIndex: e.Attachment.DeviceIndex,
        mac: e.MacAddress,
        subnetCidr: cidr,
        primaryIp: addrs.find((a) => a.Primary)?.PrivateIpAddress ?? e.PrivateIpAddress ?? '',
        secondaryIps: addrs.filter((a) => !a.Primary).map((a) => a.PrivateIpAddress!).filter(Boolean),
      });
    }
    for (const i of insts) this.topo.syncEnis(nodeNameFor(i), by.get(i.instanceId)!);
  }

  /**
   * Whether this node's pods go through the CNI: only when the node has an EniPool (the eni-operator is its
   * IPAM). A pod nobody annotates while its pool is not at its limit has no IPAM serving it (an operator
   * stopped, its pools left behind): it gets the placeholder address rather than waiting forever.
   */
  async podNotReady(pod: V1Pod, inst: SimInstance): Promise<string | undefined> {
    const uid = pod.metadata!.uid!;
    const node = nodeNameFor(inst);
    if (pod.spec?.hostNetwork || !this.topo.nodeNs(node)) return undefined;
    const cur = this.pods.get(uid);
    if (cur?.state === 'ready' || cur?.state === 'placeholder') return undefined;
    // A retry keeps showing the last failure, as kubelet's status does until the sandbox is up.
    if (cur?.state === 'adding') return cur.lastError ?? 'setting up the pod network (CNI ADD)';
    // Running already without us (on a placeholder, before a pool existed, or before a simulator restart): left so.
    if (!cur && pod.status?.phase === 'Running') return undefined;
    if (!this.pools.has(node) && Date.now() - this.poolsAt > 200) await this.listPools();
    const ready = this.pools.get(node);
    if (ready === undefined) return undefined;
    const annotated = Boolean(pod.metadata?.annotations?.[IP_ANNOTATION]);
    // Only a pool at its limit makes an unannotated pod's ADD worth starting: the plugin waits and fails naming it.
    if (!annotated && ready !== 'False/AddressLimitReached') {
      const first = this.firstSeen.get(uid) ?? Date.now();
      this.firstSeen.set(uid, first);
      if (Date.now() - first < (this.o.unservedAfterMs ?? 30_000)) return cur?.state === 'failed' ? cur.message : 'waiting for an address from the eni-operator';
      this.o.log('CNI: no address granted and the pool has free ones (no eni-operator serving it?): placeholder address', { pod: `${pod.metadata!.namespace}/${pod.metadata!.name}`, node });
      this.pods.set(uid, { state: 'placeholder' });
      return undefined;
    }
    this.startAdd(pod, node);
    return cur?.state === 'failed' ? cur.message : 'setting up the pod network (CNI ADD)';
  }

  private startAdd(pod: V1Pod, node: string): void {
    const { uid, namespace, name } = pod.metadata as { uid: string; namespace: string; name: string };
    const netns = podNetnsName(this.o.prefix, namespace, name, uid);
    this.netnsNode.set(netns, node);
    const inst = this.instances.get(node)!;
    const done = cniRun(this.env, 'add', { nodeNs: this.topo.nodeNs(node)!, nodeDir: this.dir(inst), netns, namespace, name, timeoutMs: ((this.o.grantTimeoutSeconds ?? 10) + 20) * 1000 })
      .then((r) => {
        if (this.pods.get(uid)?.state !== 'adding') return;
        this.firstSeen.delete(uid);
        // One line per ADD: the eni-operator's benchmark reads when each pod's network was ready from it.
        this.o.log('CNI ADD', { pod: `${namespace}/${name}`, uid, node, ok: r.ok, ...(r.ok ? { ip: r.ip } : { error: r.message }), cnitoolMs: r.ms, pluginMs: r.pluginMs, returnedAt: Date.now() });
        if (r.ok) this.pods.set(uid, { state: 'ready', ip: r.ip, netns });
        // kubelet's wording for a sandbox whose network could not be set up.
        else this.pods.set(uid, { state: 'failed', netns, message: `Failed to create pod sandbox: plugin type="kube-iaas-eni" name="${this.o.prefix}" failed (add): ${r.message}` });
        this.wake(namespace, name);
      });
    const prev = this.pods.get(uid);
    this.pods.set(uid, { state: 'adding', done, ...(prev?.state === 'failed' ? { lastError: prev.message } : {}) });
  }

  podIP(pod: V1Pod): string | undefined {
    const cur = this.pods.get(pod.metadata?.uid ?? '');
    return cur?.state === 'ready' ? cur.ip : undefined;
  }

  async podStopped(pod: V1Pod, inst: SimInstance): Promise<void> {
    const { uid, namespace, name } = pod.metadata as { uid: string; namespace: string; name: string };
    const cur = this.pods.get(uid);
    if (!cur) return;
    if (cur.state === 'adding') await cur.done;
    const after = this.pods.get(uid) ?? cur;
    this.pods.delete(uid);
    this.firstSeen.delete(uid);
    if (after.state === 'placeholder') return;
    const node = nodeNameFor(inst);
    const netns = podNetnsName(this.o.prefix, namespace, name, uid);
    const nodeNs = this.topo.nodeNs(node);
    if (nodeNs) {
      const r = await cniRun(this.env, 'del', { nodeNs, nodeDir: this.dir(inst), netns, namespace, name, timeoutMs: 30_000 });
      if (!r.ok) this.o.log('CNI DEL failed', { pod: `${namespace}/${name}`, error: r.message });
    }
    sh('ip', ['netns', 'del', netns]);
    this.netnsNode.delete(netns);
  }
}
