import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open, rm, rmdir, stat, symlink, truncate, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { credentials, type ServiceClientConstructor } from '@grpc/grpc-js';
import { CoreV1Api, StorageV1Api, type CoreV1Event, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { DescribeVolumesCommand, type EC2Client, type Volume } from '@aws-sdk/client-ec2';
import { call, loadNodeService, type NodeClient } from './csi-client.ts';
import { podVolumes, publishContextOf, type PodVolume } from './csi-kube.ts';
import type { SimInstance } from './node-object.ts';
import {
  blockPublishPath,
  blockStagingPath,
  EBS_DRIVER,
  loopsBackedUnder,
  nitroLink,
  podVolumePath,
  scrubHostStorage,
  stagingPath,
  storageLayout,
} from './host-storage.ts';
import type { NodeAgent } from './node-agent.ts';

const GiB = 1024 ** 3;
const ROOT_DEVICES = new Set(['/dev/xvda', '/dev/sda1']);

export interface CsiKubeletOptions {
  kc: KubeConfig;
  ec2: EC2Client;
  /** The simulator's own root: volume data, per-node device roots, sockets, kubelet directories. */
  root: string;
  /** The node plugin's entry point (packages/volume-operator/src/node/main.ts). */
  pluginMain: string;
  protoPath: string;
  log: (msg: string, fields?: Record<string, unknown>) => void;
}

interface Published {
  pvName: string;
  volumeId: string;
  targetPath: string;
  stagingPath: string;
}

interface PluginNode {
  inst: SimInstance;
  proc: ChildProcess;
  client: NodeClient;
  /** Staged volumes by PV name. */
  staged: Map<string, { volumeId: string; stagingPath: string; block: boolean }>;
  /** Published volumes by pod UID. */
  published: Map<string, Published[]>;
  /** Volume handles reported in use: from before NodeStage until after NodeUnstage. */
  inUse: Set<string>;
  /** The PV names each pod placed here asks for (staged or not yet). */
  wanted: Map<string, string[]>;
}


const status = (err: unknown) => (err as { code?: number }).code;

/**
 * The part of a kubelet that serves CSI volumes, for the driver `ebs.kube-iaas.dev`: a real node
 * plugin per node, a file-backed loop device per EBS volume moto has attached to the node (named as
 * Nitro names it), and NodeStage/NodePublish for the pods placed there, in the kubelet's path layout.
 */
export class CsiKubelet implements NodeAgent {
  private readonly core: CoreV1Api;
  private readonly storage: StorageV1Api;
  private readonly layout;
  private readonly nodes = new Map<string, PluginNode>();
  /** Loop devices given to nodes, by volume ID. */
  private readonly devices = new Map<string, { instanceId: string; loop: string }>();
  /** The last Event message per pod, so a failure repeated every poll is reported once. */
  private readonly reported = new Map<string, string>();
  private readonly stopping = new Map<string, Promise<void>>();
  /** Plugins being started, by instance ID. */
  private readonly starting = new Map<string, Promise<void>>();
  /** Pods torn down: a sync that still holds the pod from the cache must not mount for it again. */
  private readonly gone = new Set<string>();
  private nodeService: ServiceClientConstructor | undefined;
  private readonly opts: CsiKubeletOptions;

  constructor(opts: CsiKubeletOptions) {
    this.opts = opts;
    this.core = opts.kc.makeApiClient(CoreV1Api);
    this.storage = opts.kc.makeApiClient(StorageV1Api);
    this.layout = storageLayout(opts.root);
  }

  async start(): Promise<void> {
    // What a killed simulator left (mounts, loop devices); the volumes' data files stay.
    const left = scrubHostStorage(this.opts.root);
    if (left.mounts || left.loops) this.opts.log('removed leftovers of a previous simulator', left);
    await rm(this.layout.sockets, { recursive: true, force: true });
    await mkdir(this.layout.data, { recursive: true });
    await mkdir(this.layout.sockets, { recursive: true });
    this.nodeService = await loadNodeService(this.opts.protoPath);
  }

  async stop(): Promise<void> {
    for (const n of this.nodes.values()) this.stopPlugin(n);
    this.nodes.clear();
    const done = scrubHostStorage(this.opts.root);
    this.opts.log('CSI node plugins stopped, host storage removed', done);
  }

  /**
   * Starts the node's plugin once: syncs call this every round, and a plugin that takes long to start
   * (a loaded machine) must not be spawned again on the same socket.
   */
  nodeAdded(inst: SimInstance): Promise<void> {
    if (this.nodes.has(inst.instanceId)) return Promise.resolve();
    const running = this.starting.get(inst.instanceId);
    if (running) return running;
    const p = this.startPlugin(inst).finally(() => this.starting.delete(inst.instanceId));
    this.starting.set(inst.instanceId, p);
    return p;
  }

  private async startPlugin(inst: SimInstance): Promise<void> {
    const socket = this.layout.socket(inst.instanceId);
    await mkdir(`${this.layout.deviceRoot(inst.instanceId)}/disk/by-id`, { recursive: true });
    await rm(socket, { force: true });
    const args = [
      // A smaller young generation, as the image runs it (its `--lite-mode` would also turn off the
      // WebAssembly that type stripping needs, so it is left out here).
      '--max-semi-space-size=1',
      this.opts.pluginMain,
      `--endpoint=unix://${socket}`,
      `--node-id=${inst.instanceId}`,
      `--zone=${inst.zone}`,
      // Given node ID, zone and ENI count, the plugin never asks instance metadata.
      '--attached-enis=1',
      `--device-root=${this.layout.deviceRoot(inst.instanceId)}`,
      `--csi-proto=${this.opts.protoPath}`,
      '--device-wait-timeout=10',
    ];
    // Same process group as the simulator: `testbed down` stops both with one signal.
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    const deadline = Date.now() + 30_000;
    while (!existsSync(socket)) {
      if (proc.exitCode !== null || Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`the CSI node plugin for ${inst.instanceId} did not start (exit ${proc.exitCode})`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const client = new this.nodeService!(`unix:${socket}`, credentials.createInsecure()) as NodeClient;
    this.nodes.set(inst.instanceId, { inst, proc, client, staged: new Map(), published: new Map(), inUse: new Set(), wanted: new Map() });
    this.opts.log('CSI node plugin started', { instanceId: inst.instanceId, pid: proc.pid, socket });
  }

  async nodeRemoved(inst: SimInstance): Promise<void> {
    const n = this.nodes.get(inst.instanceId);
    if (!n) return;
    this.nodes.delete(inst.instanceId);
    this.stopPlugin(n);
    // A terminated instance loses its mounts and devices; the volumes' data stays in `<root>/ebs`.
    scrubHostStorage(this.layout.node(inst.instanceId));
    for (const [id, d] of this.devices) if (d.instanceId === inst.instanceId) this.devices.delete(id);
  }

  private stopPlugin(n: PluginNode): void {
    n.client.close();
    if (n.proc.exitCode === null) n.proc.kill('SIGTERM');
  }

  /** Each poll: a loop device for every volume moto has attached to a node, none for the others. */
  async sync(): Promise<void> {
    if (this.nodes.size === 0 && this.devices.size === 0) return;
    const volumes: Volume[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.opts.ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.status', Values: ['attached'] }], NextToken }));
      volumes.push(...(page.Volumes ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    const want = new Map<string, { instanceId: string; sizeGiB: number }>();
    for (const v of volumes) {
      // The root volume (the AMI's boot disk) is not a CSI volume: no pod ever stages it, so it gets no loop device.
      const a = v.Attachments?.find((x) => x.State === 'attached' && x.InstanceId && this.nodes.has(x.InstanceId) && !ROOT_DEVICES.has(x.Device ?? ''));
      if (v.VolumeId && a?.InstanceId) want.set(v.VolumeId, { instanceId: a.InstanceId, sizeGiB: v.Size ?? 1 });
    }
    for (const [volumeId, d] of this.devices) {
      if (want.get(volumeId)?.instanceId !== d.instanceId) await this.removeDevice(volumeId);
    }
    for (const [volumeId, w] of want) await this.ensureDevice(volumeId, w.instanceId, w.sizeGiB);
    for (const n of this.nodes.values()) {
      await this.expandPending(n).catch((e) => this.opts.log('volume expansion failed', { instanceId: n.inst.instanceId, error: String(e) }));
    }
  }

  private async ensureDevice(volumeId: string, instanceId: string, sizeGiB: number): Promise<void> {
    const file = this.layout.dataFile(volumeId);
    const bytes = sizeGiB * GiB;
    // Sparse: a 1 GiB volume costs the blocks written to it.
    const fh = await open(file, 'a');
    await fh.close();
    const grown = (await stat(file)).size < bytes;
    if (grown) await truncate(file, bytes);
    let loop = this.devices.get(volumeId)?.loop ?? loopsBackedUnder(file)[0]?.name;
    if (!loop) {
      loop = execFileSync('losetup', ['-f', '--show', file], { encoding: 'utf8' }).trim();
      this.opts.log('volume device attached', { volumeId, instanceId, device: loop, sizeGiB });
    } else if (grown) {
      // ModifyVolume grew the volume: the kernel re-reads the size, as NVMe reports a new namespace size.
      execFileSync('losetup', ['-c', loop]);
      this.opts.log('volume device grown', { volumeId, instanceId, device: loop, sizeGiB });
    }
    this.devices.set(volumeId, { instanceId, loop });
    const link = nitroLink(this.layout.deviceRoot(instanceId), volumeId);
    if (!existsSync(link)) await symlink(loop, link);
  }

  private async removeDevice(volumeId: string): Promise<void> {
    const d = this.devices.get(volumeId);
    this.devices.delete(volumeId);
    if (!d) return;
    await unlink(nitroLink(this.layout.deviceRoot(d.instanceId), volumeId)).catch(() => undefined);
    // A device still mounted is cleared by the kernel once unmounted (losetup -d sets autoclear).
    for (const l of loopsBackedUnder(this.layout.dataFile(volumeId))) execFileSync('losetup', ['-d', l.name]);
    this.opts.log('volume device detached', { volumeId, instanceId: d.instanceId, device: d.loop });
  }

  volumesInUse(inst: SimInstance): string[] {
    return [...(this.nodes.get(inst.instanceId)?.inUse ?? [])].map((h) => `kubernetes.io/csi/${EBS_DRIVER}^${h}`);
  }

  /** The pod's volumes of this driver, staged and published; a message while they are not. */
  async podNotReady(pod: V1Pod, inst: SimInstance): Promise<string | undefined> {
    const n = this.nodes.get(inst.instanceId);
    const uid = pod.metadata!.uid!;
    if (this.gone.has(uid)) return undefined;
    const vols = await podVolumes(this.core, pod);
    if (vols.length === 0) return undefined;
    if (!n) return `CSI driver ${EBS_DRIVER} is not running on ${inst.instanceId}`;
    const waiting = await this.mountFor(pod, inst, n, vols);
    if (this.gone.has(uid)) {
      // Deleted while we mounted (the informer's delete runs beside the pod sync): undo what this call did,
      // after the teardown that ran meanwhile.
      await this.stopping.get(uid);
      await this.teardown(uid, inst);
      return undefined;
    }
    return waiting;
  }

  private async mountFor(pod: V1Pod, inst: SimInstance, n: PluginNode, vols: PodVolume[]): Promise<string | undefined> {
    const uid = pod.metadata!.uid!;
    n.wanted.set(uid, vols.map((v) => v.pvName));
    if (n.published.get(uid)?.length === vols.length) return undefined;
    const kubelet = this.layout.kubelet(inst.instanceId);
    const done: Published[] = [];
    for (const v of vols) {
      const block = v.pv.spec?.volumeMode === 'Block';
      const staging = block ? blockStagingPath(kubelet, v.pvName) : stagingPath(kubelet, EBS_DRIVER, v.volumeId);
      const target = block ? blockPublishPath(kubelet, v.pvName, uid) : podVolumePath(kubelet, uid, v.pvName);
      const capability = {
        ...(block ? { block: {} } : { mount: { fsType: v.pv.spec?.csi?.fsType ?? '', mountFlags: v.pv.spec?.mountOptions ?? [] } }),
        accessMode: { mode: v.pv.spec?.accessModes?.includes('ReadOnlyMany') ? 'SINGLE_NODE_READER_ONLY' : 'SINGLE_NODE_WRITER' },
      };
      const publishContext = await publishContextOf(this.storage, v.pvName);
      const volumeContext = v.pv.spec?.csi?.volumeAttributes ?? {};
      try {
        if (!n.staged.has(v.pvName)) {
          if (!n.inUse.has(v.volumeId)) {
            // Reported in use first (the simulator posts it now): the attach/detach controller then holds the volume.
            n.inUse.add(v.volumeId);
            return 'reporting the volume in use before mounting it';
          }
          if (!existsSync(nitroLink(this.layout.deviceRoot(inst.instanceId), v.volumeId))) await this.sync();
          await mkdir(staging, { recursive: true });
          await call(n.client, 'NodeStageVolume', { volumeId: v.volumeId, publishContext, stagingTargetPath: staging, volumeCapability: capability, volumeContext });
          n.staged.set(v.pvName, { volumeId: v.volumeId, stagingPath: staging, block });
        }
      } catch (e) {
        return this.failed(pod, `MountVolume.MountDevice failed for volume "${v.pvName}" : ${(e as Error).message}`);
      }
      try {
        await mkdir(dirname(target), { recursive: true });
        await call(n.client, 'NodePublishVolume', { volumeId: v.volumeId, publishContext, stagingTargetPath: staging, targetPath: target, volumeCapability: capability, readonly: v.readOnly, volumeContext });
        done.push({ pvName: v.pvName, volumeId: v.volumeId, targetPath: target, stagingPath: staging });
      } catch (e) {
        n.published.set(uid, done);
        return this.failed(pod, `MountVolume.SetUp failed for volume "${v.pvName}" : ${(e as Error).message}`);
      }
    }
    n.published.set(uid, done);
    this.reported.delete(uid);
    return undefined;
  }

  /** Unpublish the pod's volumes, and unstage those no other pod on the node uses: before the pod object goes. */
  async podStopped(pod: V1Pod, inst: SimInstance): Promise<void> {
    // The informer's delete and the deletion sync may both ask: one teardown per pod at a time.
    const uid = pod.metadata?.uid ?? '';
    this.gone.add(uid);
    const running = this.stopping.get(uid);
    if (running) return running;
    const p = this.teardown(uid, inst).finally(() => this.stopping.delete(uid));
    this.stopping.set(uid, p);
    return p;
  }

  private async teardown(uid: string, inst: SimInstance): Promise<void> {
    const n = this.nodes.get(inst.instanceId);
    this.reported.delete(uid);
    if (!n) return;
    const mine = n.published.get(uid) ?? [];
    for (const p of mine) await call(n.client, 'NodeUnpublishVolume', { volumeId: p.volumeId, targetPath: p.targetPath });
    n.published.delete(uid);
    // Also what was staged for this pod when its publish failed.
    const candidates = new Set([...mine.map((p) => p.pvName), ...(n.wanted.get(uid) ?? [])]);
    n.wanted.delete(uid);
    const usedByOthers = new Set([...n.published.values()].flat().map((p) => p.pvName).concat([...n.wanted.values()].flat()));
    for (const pvName of candidates) {
      const staged = n.staged.get(pvName);
      if (usedByOthers.has(pvName) || !staged) continue;
      await call(n.client, 'NodeUnstageVolume', { volumeId: staged.volumeId, stagingTargetPath: staged.stagingPath });
      n.staged.delete(pvName);
      // kubelet removes the staging directory (and the per-volume one above it) after a successful unstage.
      await rmdir(staged.stagingPath).catch(() => undefined);
      if (!staged.block) await rmdir(dirname(staged.stagingPath)).catch(() => undefined);
    }
    // In use until unmounted; a volume whose stage failed was never mounted.
    const stillStaged = new Set([...n.staged.values()].map((x) => x.volumeId));
    for (const h of n.inUse) if (!stillStaged.has(h)) n.inUse.delete(h);
    // The pod's volume directories are the kubelet's; the plugin removed the (empty) targets.
    await rm(`${this.layout.kubelet(inst.instanceId)}/pods/${uid}`, { recursive: true, force: true }).catch(() => undefined);
  }

  /**
   * kubelet's half of a resize: once the controller grew the volume (PV capacity above the claim's,
   * FileSystemResizePending on the claim), NodeExpandVolume on a published path, then the claim's capacity.
   */
  private async expandPending(n: PluginNode): Promise<void> {
    const byPv = new Map<string, Published>();
    for (const list of n.published.values()) for (const p of list) byPv.set(p.pvName, p);
    for (const [pvName, published] of byPv) {
      if (n.staged.get(pvName)?.block) continue;
      const pv = await this.core.readPersistentVolume({ name: pvName }).catch(() => undefined);
      const ref = pv?.spec?.claimRef;
      const size = pv?.spec?.capacity?.storage;
      if (!ref?.name || !ref.namespace || !size) continue;
      const claim = { name: ref.name, namespace: ref.namespace };
      const pvc = await this.core.readNamespacedPersistentVolumeClaim(claim).catch(() => undefined);
      if (!pvc?.status?.conditions?.some((c) => c.type === 'FileSystemResizePending' && c.status === 'True')) continue;
      const gib = Number(/^(\d+)Gi$/.exec(size)?.[1] ?? 0);
      const device = this.devices.get(published.volumeId);
      // The device follows moto's size first (the attachment poll may not have seen the modification yet).
      if (device) await this.ensureDevice(published.volumeId, device.instanceId, gib);
      await call(n.client, 'NodeExpandVolume', {
        volumeId: published.volumeId,
        volumePath: published.targetPath,
        stagingTargetPath: published.stagingPath,
        capacityRange: { requiredBytes: gib * GiB },
        volumeCapability: { mount: { fsType: pv?.spec?.csi?.fsType ?? '', mountFlags: [] }, accessMode: { mode: 'SINGLE_NODE_WRITER' } },
      });
      const conditions = (pvc.status?.conditions ?? []).filter((c) => c.type !== 'FileSystemResizePending');
      await this.core.patchNamespacedPersistentVolumeClaimStatus({
        ...claim,
        body: [
          { op: 'replace', path: '/status/capacity', value: { ...pvc.status?.capacity, storage: size } },
          { op: 'replace', path: '/status/conditions', value: conditions },
        ],
      });
      this.opts.log('filesystem expanded', { pv: pvName, size });
    }
  }

  /** The pod waits with the message; a new message also becomes a Warning Event on the pod, as kubelet's FailedMount. */
  private async failed(pod: V1Pod, message: string): Promise<string> {
    const uid = pod.metadata!.uid!;
    if (this.reported.get(uid) !== message) {
      this.reported.set(uid, message);
      this.opts.log('pod volume not ready', { pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, message });
      const now = new Date();
      const event: CoreV1Event = {
        metadata: { generateName: `${pod.metadata!.name}.`, namespace: pod.metadata!.namespace! },
        involvedObject: { kind: 'Pod', apiVersion: 'v1', name: pod.metadata!.name!, namespace: pod.metadata!.namespace!, uid },
        reason: 'FailedMount',
        message,
        type: 'Warning',
        source: { component: 'kubelet', host: pod.spec?.nodeName ?? '' },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      };
      await this.core.createNamespacedEvent({ namespace: pod.metadata!.namespace!, body: event }).catch((e) => (status(e) === 404 ? undefined : Promise.reject(e)));
    }
    return message;
  }
}
