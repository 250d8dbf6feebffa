import {
  CoordinationV1Api,
  CoreV1Api,
  StorageV1Api,
  V1MicroTime,
  makeInformer,
  type Informer,
  type ObjectCache,
  type KubeConfig,
  type V1CSINodeDriver,
  type V1Pod,
} from '@kubernetes/client-node';
import { DescribeInstanceTypesCommand, DescribeInstancesCommand, type EC2Client, type _InstanceType } from '@aws-sdk/client-ec2';
import { DescribeAutoScalingGroupsCommand, type AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { instanceTypeFactsFromSdk, type InstanceTypeFacts } from '@kube-iaas/core/instance-types';
import { tagsFromAws } from '@kube-iaas/core/tags';
import { ASG_NAME_INSTANCE_TAG, asgNodeSettings, NO_ASG_SETTINGS, type AsgNodeSettings } from './asg-settings.ts';
import { newNode, nodeNameFor, nodeStatus, type SimInstance } from './node-object.ts';
import { podStatus, type PodGate } from './pod-status.ts';
import type { NodeAgent } from './node-agent.ts';
import { LocalPodIps } from './local-ips.ts';
import { volumesNotReady } from './volume-gate.ts';

/** The annotation the eni-operator writes with a pod's VPC address. */
export const POD_IP_ANNOTATION = 'network.kube-iaas.dev/ip';

export interface SimulatorHooks {
  /**
   * Drivers to list in the node's CSINode, as a node plugin's registration would. The volume
   * operator's issue plugs the EBS driver in here (node ID = instance ID, attach limit from core).
   */
  csiDrivers?: (instance: SimInstance, facts: InstanceTypeFacts) => V1CSINodeDriver[];
  /** Parts of the kubelet run for real on this machine (see `node-agent.ts`), e.g. the CSI volume manager. */
  agents?: NodeAgent[];
}

export interface SimulatorOptions {
  kc: KubeConfig;
  ec2: EC2Client;
  /**
   * Reads the tags of the groups that launched instances: node-template labels and taints are put on
   * their Nodes, and the testbed's join tags (`asg-settings.ts`) delay or prevent registration.
   * Without it, every instance registers at once with no extra labels or taints.
   */
  autoScaling?: AutoScalingClient;
  cluster: string;
  region: string;
  /**
   * Where pod IPs come from: `local` hands out addresses from 100.64.0.0/10 unless the pod already
   * carries the eni-operator's annotation; `annotation` waits for that annotation, as pods on a
   * real VPC-CNI node wait for an address.
   */
  podIpSource: 'local' | 'annotation';
  pollMs?: number;
  heartbeatMs?: number;
  hooks?: SimulatorHooks;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

interface ManagedNode {
  instance: SimInstance;
  readySince: Date;
  index: number;
  /** `status.volumesInUse` as last posted. */
  inUse?: string;
}

const status = (err: unknown) => (err as { code?: number }).code;
const asgName = (tags: { Key?: string; Value?: string }[] | undefined): string | undefined => tags?.find((t) => t.Key === ASG_NAME_INSTANCE_TAG)?.Value;

export class NodeSimulator {
  private readonly core: CoreV1Api;
  private readonly coord: CoordinationV1Api;
  private readonly storage: StorageV1Api;
  private readonly nodes = new Map<string, ManagedNode>();
  private readonly typeFacts = new Map<string, InstanceTypeFacts>();
  private readonly localIps = new LocalPodIps();
  private nextNodeIndex = 1;
  private podInformer: (Informer<V1Pod> & ObjectCache<V1Pod>) | undefined;
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  private readonly pending = new Set<string>();
  private draining = false;
  /** ASG tags are read at most every few seconds per group: instances that may not join are polled each second. */
  private readonly asgSettings = new Map<string, { settings: AsgNodeSettings; expires: number }>();
  /** When each not-yet-registered instance was first seen running (for the join delay). */
  private readonly firstSeen = new Map<string, number>();
  private readonly log: NonNullable<SimulatorOptions['log']>;

  private readonly opts: SimulatorOptions;

  constructor(opts: SimulatorOptions) {
    this.opts = opts;
    this.core = opts.kc.makeApiClient(CoreV1Api);
    this.coord = opts.kc.makeApiClient(CoordinationV1Api);
    this.storage = opts.kc.makeApiClient(StorageV1Api);
    this.log = opts.log ?? ((msg, fields) => console.log(JSON.stringify({ time: new Date().toISOString(), component: 'node-simulator', msg, ...fields })));
  }

  private get agents(): NodeAgent[] {
    return this.opts.hooks?.agents ?? [];
  }

  async start(): Promise<void> {
    for (const a of this.agents) await a.start?.();
    await this.syncInstances();
    const informer = makeInformer(this.opts.kc, '/api/v1/pods', () => this.core.listPodForAllNamespaces());
    informer.on('add', (p) => this.enqueue(p));
    informer.on('update', (p) => this.enqueue(p));
    // A pod removed at once (force deletion) still has its volumes torn down.
    informer.on('delete', (p) => void this.podStopped(p).catch((e) => this.log('pod teardown failed', { pod: this.key(p), error: String(e) })));
    informer.on('error', () => {
      // The apiserver went away; try again shortly, as a kubelet would.
      if (!this.stopped) setTimeout(() => void informer.start().catch(() => undefined), 1000);
    });
    await informer.start();
    this.podInformer = informer;
    const poll = this.opts.pollMs ?? 1000;
    this.timers.push(setInterval(() => void this.syncInstances().catch((e) => this.log('instance sync failed', { error: String(e) })), poll));
    this.timers.push(setInterval(() => void this.heartbeat().catch((e) => this.log('heartbeat failed', { error: String(e) })), this.opts.heartbeatMs ?? 10_000));
    // Pods waiting on a volume attachment or an address are looked at again each poll.
    this.timers.push(setInterval(() => this.recheckWaiting(), poll));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    await this.podInformer?.stop();
    for (const a of this.agents) await a.stop?.().catch((e) => this.log('agent stop failed', { error: String(e) }));
  }

  nodeNames(): string[] {
    return [...this.nodes.keys()];
  }

  private async describeRunning(): Promise<SimInstance[]> {
    const out: SimInstance[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.opts.ec2.send(
        new DescribeInstancesCommand({
          Filters: [
            { Name: 'tag-key', Values: [`kubernetes.io/cluster/${this.opts.cluster}`] },
            { Name: 'instance-state-name', Values: ['running'] },
          ],
          NextToken,
        }),
      );
      for (const r of page.Reservations ?? [])
        for (const i of r.Instances ?? []) {
          if (!i.InstanceId || !i.InstanceType || !i.PrivateIpAddress) continue;
          const f = await this.facts(i.InstanceType);
          out.push({
            instanceId: i.InstanceId,
            instanceType: i.InstanceType,
            zone: i.Placement?.AvailabilityZone ?? '',
            region: this.opts.region,
            privateIp: i.PrivateIpAddress,
            privateDnsName: i.PrivateDnsName ?? '',
            vcpus: f.vcpus,
            memoryMiB: f.memoryMiB,
            maxPods: f.maxPods,
            ...(asgName(i.Tags) ? { asgName: asgName(i.Tags)! } : {}),
          });
        }
      NextToken = page.NextToken;
    } while (NextToken);
    return out;
  }

  private async facts(type: string): Promise<InstanceTypeFacts> {
    const cached = this.typeFacts.get(type);
    if (cached) return cached;
    const r = await this.opts.ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: [type as _InstanceType] }));
    const info = r.InstanceTypes?.[0];
    if (!info) throw new Error(`DescribeInstanceTypes knows no ${type}`);
    const f = instanceTypeFactsFromSdk(info);
    this.typeFacts.set(type, f);
    return f;
  }

  /** The settings of each named group, from its tags (cached a few seconds). */
  private async groupSettings(names: string[]): Promise<Map<string, AsgNodeSettings>> {
    const now = Date.now();
    const out = new Map<string, AsgNodeSettings>();
    const stale = names.filter((n) => {
      const hit = this.asgSettings.get(n);
      if (hit && hit.expires > now) out.set(n, hit.settings);
      return !out.has(n);
    });
    if (stale.length && this.opts.autoScaling) {
      for (let i = 0; i < stale.length; i += 50) {
        const res = await this.opts.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: stale.slice(i, i + 50) }));
        for (const g of res.AutoScalingGroups ?? []) {
          const settings = asgNodeSettings(tagsFromAws(g.Tags));
          this.asgSettings.set(g.AutoScalingGroupName ?? '', { settings, expires: now + 3000 });
          out.set(g.AutoScalingGroupName ?? '', settings);
        }
      }
    }
    return out;
  }

  /** Registers Nodes for new running instances and removes those whose instance is gone. */
  async syncInstances(): Promise<void> {
    const running = await this.describeRunning();
    const fresh = running.filter((i) => !this.nodes.has(nodeNameFor(i)));
    const groups = await this.groupSettings([...new Set(fresh.map((i) => i.asgName).filter((n): n is string => !!n))]);
    const now = Date.now();
    const seen = new Set<string>();
    for (const inst of running) {
      const name = nodeNameFor(inst);
      seen.add(name);
      if (this.nodes.has(name)) continue;
      const settings = (inst.asgName && groups.get(inst.asgName)) || NO_ASG_SETTINGS;
      if (settings.neverJoin) continue;
      const first = this.firstSeen.get(inst.instanceId) ?? now;
      this.firstSeen.set(inst.instanceId, first);
      if (now - first < settings.joinDelayMs) continue;
      await this.register(inst, settings);
      this.firstSeen.delete(inst.instanceId);
    }
    const runningIds = new Set(running.map((i) => i.instanceId));
    for (const id of this.firstSeen.keys()) if (!runningIds.has(id)) this.firstSeen.delete(id);
    for (const a of this.agents) await a.sync?.().catch((e) => this.log('agent sync failed', { error: String(e) }));
    for (const [name, n] of this.nodes) {
      if (seen.has(name)) continue;
      this.nodes.delete(name);
      for (const a of this.agents) await a.nodeRemoved?.(n.instance).catch((e) => this.log('agent node removal failed', { node: name, error: String(e) }));
      await this.core.deleteNode({ name }).catch((e) => (status(e) === 404 ? undefined : Promise.reject(e)));
      await this.coord.deleteNamespacedLease({ name, namespace: 'kube-node-lease' }).catch(() => undefined);
      this.log('node removed: instance no longer running', { node: name, instanceId: n.instance.instanceId });
    }
  }

  private async register(inst: SimInstance, settings: AsgNodeSettings = NO_ASG_SETTINGS): Promise<void> {
    const name = nodeNameFor(inst);
    try {
      await this.core.createNode({ body: newNode(inst, settings) });
      this.log('node registered', { node: name, instanceId: inst.instanceId, type: inst.instanceType, zone: inst.zone, ...(inst.asgName ? { asg: inst.asgName } : {}) });
    } catch (e) {
      if (status(e) !== 409) throw e;
    }
    // A node-side component that fails to start leaves the node up; its pods wait with the agent's reason.
    for (const a of this.agents) await a.nodeAdded?.(inst).catch((e) => this.log('agent node start failed', { node: name, error: String(e) }));
    const managed: ManagedNode = { instance: inst, readySince: new Date(), index: this.nextNodeIndex++ };
    this.nodes.set(name, managed);
    await this.postStatus(name, managed);
    await this.renewLease(name);
    const drivers = this.opts.hooks?.csiDrivers?.(inst, await this.facts(inst.instanceType));
    if (drivers?.length) {
      // Owned by the Node, as kubelet does it, so the garbage collector removes it with the Node.
      const uid = (await this.core.readNode({ name })).metadata!.uid!;
      const metadata = { name, ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid }] };
      await this.storage
        .createCSINode({ body: { apiVersion: 'storage.k8s.io/v1', kind: 'CSINode', metadata, spec: { drivers } } })
        .catch((e) => (status(e) === 409 ? undefined : Promise.reject(e)));
    }
    // Pods may have been bound before a simulator restart; pick them up.
    for (const p of this.podInformer?.list() ?? []) if (p.spec?.nodeName === name) this.enqueue(p);
  }

  private volumesInUse(n: ManagedNode): string[] {
    return this.agents.flatMap((a) => a.volumesInUse?.(n.instance) ?? []).sort();
  }

  private async postStatus(name: string, n: ManagedNode): Promise<void> {
    const inUse = this.volumesInUse(n);
    const value = { ...nodeStatus(n.instance, new Date(), n.readySince), ...(inUse.length ? { volumesInUse: inUse } : {}) };
    await this.core.patchNodeStatus({ name, body: [{ op: 'replace', path: '/status', value }] });
    n.inUse = inUse.join(',');
  }

  /** As kubelet, the node's status follows its volumes in use at once, not only at the next heartbeat. */
  private async postIfInUseChanged(n: ManagedNode): Promise<void> {
    if (this.volumesInUse(n).join(',') !== n.inUse) await this.postStatus(nodeNameFor(n.instance), n);
  }

  private async renewLease(name: string): Promise<void> {
    const now = new V1MicroTime();
    try {
      const lease = await this.coord.readNamespacedLease({ name, namespace: 'kube-node-lease' });
      lease.spec = { ...lease.spec, holderIdentity: name, leaseDurationSeconds: 40, renewTime: now };
      await this.coord.replaceNamespacedLease({ name, namespace: 'kube-node-lease', body: lease });
    } catch (e) {
      if (status(e) !== 404) throw e;
      const node = await this.core.readNode({ name });
      await this.coord.createNamespacedLease({
        namespace: 'kube-node-lease',
        body: {
          metadata: { name, ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata!.uid! }] },
          spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: now },
        },
      });
    }
  }

  private async heartbeat(): Promise<void> {
    for (const [name, n] of this.nodes) {
      await this.postStatus(name, n).catch((e) => {
        // Someone deleted the Node object while the instance still runs: register it again.
        if (status(e) === 404) this.nodes.delete(name);
        else throw e;
      });
      await this.renewLease(name);
    }
  }

  private key(p: V1Pod): string {
    return `${p.metadata?.namespace}/${p.metadata?.name}`;
  }

  /** A node agent's work for the pod finished (e.g. its CNI ADD): look at it now rather than at the next poll. */
  wake(namespace: string, name: string): void {
    const p = this.podInformer?.get(name, namespace);
    if (p) this.enqueue(p);
  }

  private enqueue(p: V1Pod): void {
    if (!p.spec?.nodeName || !this.nodes.has(p.spec.nodeName)) return;
    this.pending.add(this.key(p));
    void this.drain();
  }

  private recheckWaiting(): void {
    for (const p of this.podInformer?.list() ?? []) if (p.status?.phase !== 'Running' || p.metadata?.deletionTimestamp) this.enqueue(p);
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.pending.size && !this.stopped) {
        const key = this.pending.values().next().value as string;
        this.pending.delete(key);
        const [namespace, name] = key.split('/') as [string, string];
        const pod = this.podInformer?.get(name, namespace);
        if (pod) await this.syncPod(pod).catch((e) => this.log('pod sync failed', { pod: key, error: String(e) }));
      }
    } finally {
      this.draining = false;
    }
  }

  private async syncPod(pod: V1Pod): Promise<void> {
    const nodeName = pod.spec!.nodeName!;
    const node = this.nodes.get(nodeName);
    if (!node) return;
    const { namespace, name, uid } = pod.metadata!;
    if (pod.metadata?.deletionTimestamp) {
      // Volumes are unmounted before the object goes, so the attach/detach controller detaches only unmounted volumes.
      await this.podStopped(pod);
      // The containers are "stopped" at once; kubelet then removes the object for good.
      await this.core
        .deleteNamespacedPod({ name: name!, namespace: namespace!, gracePeriodSeconds: 0, body: { gracePeriodSeconds: 0, preconditions: { uid } } })
        .catch((e) => ([404, 409].includes(status(e) ?? 0) ? undefined : Promise.reject(e)));
      this.localIps.release(uid!);
      return;
    }
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    const gate = await this.gate(pod, node);
    const desired = podStatus(pod, node.instance.privateIp, gate, new Date());
    const current = pod.status;
    const same =
      current?.phase === desired.phase &&
      current?.podIP === desired.podIP &&
      current?.containerStatuses?.[0]?.state?.waiting?.reason === desired.containerStatuses?.[0]?.state?.waiting?.reason &&
      current?.containerStatuses?.[0]?.state?.waiting?.message === desired.containerStatuses?.[0]?.state?.waiting?.message;
    if (same) return;
    await this.core.patchNamespacedPodStatus({ name: name!, namespace: namespace!, body: [{ op: 'replace', path: '/status', value: desired }] });
  }

  private async gate(pod: V1Pod, node: ManagedNode): Promise<PodGate> {
    const waiting = await volumesNotReady(this.core, this.storage, pod, pod.spec!.nodeName!);
    if (waiting) return { ready: false, reason: 'ContainerCreating', message: waiting };
    for (const a of this.agents) {
      const notReady = await a.podNotReady?.(pod, node.instance).finally(() => this.postIfInUseChanged(node));
      if (notReady) return { ready: false, reason: 'ContainerCreating', message: notReady };
    }
    if (pod.spec?.hostNetwork) return { ready: true, podIP: node.instance.privateIp };
    for (const a of this.agents) {
      const ip = a.podIP?.(pod, node.instance);
      if (ip) return { ready: true, podIP: ip };
    }
    const annotated = pod.metadata?.annotations?.[POD_IP_ANNOTATION];
    if (annotated) return { ready: true, podIP: annotated };
    if (this.opts.podIpSource === 'annotation')
      return { ready: false, reason: 'ContainerCreating', message: `waiting for an address (annotation ${POD_IP_ANNOTATION})` };
    return { ready: true, podIP: this.localIps.get(pod.metadata!.uid!, node.index, pod.status?.podIP) };
  }

  private async podStopped(pod: V1Pod): Promise<void> {
    const node = this.nodes.get(pod.spec?.nodeName ?? '');
    if (!node) return;
    for (const a of this.agents) await a.podStopped?.(pod, node.instance);
    await this.postIfInUseChanged(node);
  }
}
