import { lstat, mkdir, realpath, rmdir, statfs, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Logger } from '@kube-iaas/core/log';
import { deviceSizeBytes, findDevice, majorMinor, type DeviceLookup } from './device.ts';
import { aborted, alreadyExists, failedPrecondition, internal, notFound } from './errors.ts';
import { run, runOk } from './exec.ts';
import { isReadOnly, mountAt, readMounts, type MountEntry } from './mountinfo.ts';
import { growCommand, mkfsCommand, mountOptions, parseBlkid, type FsType } from './probe.ts';
import { parseCapability, requireField, requirePath, type VolumeCapability } from './validate.ts';

export interface NodeConfig extends DeviceLookup {
  nodeId: string;
  zone: string;
  maxVolumesPerNode: number;
}

/** Topology keys: the EBS CSI driver's (so its StorageClasses and PVs keep working) and Kubernetes'. */
export const ZONE_TOPOLOGY_KEYS = ['topology.ebs.csi.aws.com/zone', 'topology.kubernetes.io/zone'] as const;

type Ctx = Record<string, string>;
interface StageReq { volumeId?: string; stagingTargetPath?: string; volumeCapability?: VolumeCapability | null; publishContext?: Ctx }
interface UnstageReq { volumeId?: string; stagingTargetPath?: string }
interface PublishReq extends StageReq { targetPath?: string; readonly?: boolean }
interface UnpublishReq { volumeId?: string; targetPath?: string }
interface PathReq { volumeId?: string; volumePath?: string; stagingTargetPath?: string; volumeCapability?: VolumeCapability | null }
interface HealthReq { volumeId?: string; volumePublishPath?: string; stagingTargetPath?: string }

/** The real path of an existing path; the path as given (resolved) when it does not exist yet. */
async function canonical(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return resolve(path);
  }
}

async function lstatOrUndefined(path: string) {
  try {
    return await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * The CSI Node service. Every call is idempotent: a repeat finds the state it would create and
 * succeeds; a repeat that would need a different state is refused. Calls for one volume run one at
 * a time (another one in flight gets ABORTED, which the CO retries).
 */
export class NodeService {
  private readonly busy = new Set<string>();
  private readonly config: NodeConfig;
  private readonly log: Logger;

  constructor(config: NodeConfig, log: Logger) {
    this.config = config;
    this.log = log;
  }

  private async exclusive<T>(volumeId: string, fn: () => Promise<T>): Promise<T> {
    if (this.busy.has(volumeId)) throw aborted(`an operation on volume ${volumeId} is already in progress`);
    this.busy.add(volumeId);
    try {
      return await fn();
    } finally {
      this.busy.delete(volumeId);
    }
  }

  getCapabilities() {
    return {
      capabilities: ['STAGE_UNSTAGE_VOLUME', 'EXPAND_VOLUME', 'GET_VOLUME_STATS', 'GET_VOLUME_HEALTH'].map((type) => ({ rpc: { type } })),
    };
  }

  getInfo() {
    const segments: Record<string, string> = {};
    for (const k of ZONE_TOPOLOGY_KEYS) segments[k] = this.config.zone;
    return { nodeId: this.config.nodeId, maxVolumesPerNode: this.config.maxVolumesPerNode, accessibleTopology: { segments } };
  }

  async stage(req: StageReq): Promise<object> {
    const volumeId = requireField(req.volumeId, 'volume_id', '');
    const stagingPath = requirePath(req.stagingTargetPath, 'staging_target_path', volumeId);
    const cap = parseCapability(req.volumeCapability, volumeId);
    // A block volume is handed to the pod as the device itself at publish time.
    if (cap.kind === 'block') return {};
    return this.exclusive(volumeId, async () => {
      const device = await findDevice(volumeId, req.publishContext ?? {}, this.config);
      await mkdir(stagingPath, { recursive: true });
      const target = await canonical(stagingPath);
      const current = mountAt(await readMounts(), target);
      if (current) {
        if (current.majorMinor === device.majorMinor && current.fsType === cap.fsType) return {};
        throw alreadyExists(
          `volume ${volumeId}: ${stagingPath} already has ${current.source} (${current.fsType}) mounted, not ${device.path} (${cap.fsType}); unstage it first`,
        );
      }
      await this.ensureFilesystem(volumeId, device.path, cap.fsType);
      const opts = mountOptions(cap.fsType, cap.mountFlags);
      if (cap.readOnlyMode && !opts.includes('ro')) opts.push('ro');
      await this.mountOrFail(volumeId, ['-t', cap.fsType, '-o', opts.join(','), device.path, target], stagingPath);
      this.log.info({ volumeId, device: device.path, via: device.via, stagingPath, fsType: cap.fsType }, 'volume staged');
      return {};
    });
  }

  /** Formats only a device on which blkid finds nothing; any signature of another kind refuses. */
  private async ensureFilesystem(volumeId: string, device: string, fsType: FsType): Promise<void> {
    const probe = await run('blkid', ['-p', '-o', 'export', device]);
    let content;
    try {
      content = parseBlkid(probe.code, probe.stdout, probe.stderr);
    } catch (err) {
      throw internal(`volume ${volumeId}: cannot tell what ${device} holds, so it is neither formatted nor mounted: ${(err as Error).message}`);
    }
    switch (content.kind) {
      case 'empty': {
        const [cmd, args] = mkfsCommand(fsType, device);
        const t = Date.now();
        await runOk(cmd, args, 600_000).catch((err: Error) => {
          throw internal(`volume ${volumeId}: ${cmd} on ${device} failed: ${err.message}`);
        });
        this.log.info({ volumeId, device, fsType, ms: Date.now() - t }, 'filesystem created');
        return;
      }
      case 'filesystem':
        if (content.type === fsType) return;
        throw failedPrecondition(
          `volume ${volumeId}: ${device} already holds a ${content.type} filesystem, not ${fsType}; it is not reformatted (change the class's fsType or move the data)`,
        );
      case 'partition-table':
        throw failedPrecondition(`volume ${volumeId}: ${device} holds a ${content.type} partition table; it is not formatted or mounted`);
      default:
        throw failedPrecondition(`volume ${volumeId}: ${device} holds something blkid cannot name (${content.detail}); it is not formatted`);
    }
  }

  private async mountOrFail(volumeId: string, args: string[], path: string): Promise<void> {
    const r = await run('mount', args);
    if (r.code !== 0) throw internal(`volume ${volumeId}: mount ${args.join(' ')} (at ${path}) failed: ${(r.stderr || r.stdout).trim()}`);
  }

  /** Unmounts every mount stacked at `path` (bounded), leaving the data on the device alone. */
  private async unmountAll(volumeId: string, path: string): Promise<number> {
    const target = await canonical(path);
    for (let i = 0; i < 16; i++) {
      if (!mountAt(await readMounts(), target)) return i;
      const r = await run('umount', [target]);
      if (r.code !== 0) throw internal(`volume ${volumeId}: umount ${target} failed: ${(r.stderr || r.stdout).trim()}`);
    }
    throw internal(`volume ${volumeId}: ${path} is still mounted after 16 unmounts`);
  }

  async unstage(req: UnstageReq): Promise<object> {
    const volumeId = requireField(req.volumeId, 'volume_id', '');
    const stagingPath = requirePath(req.stagingTargetPath, 'staging_target_path', volumeId);
    return this.exclusive(volumeId, async () => {
      const n = await this.unmountAll(volumeId, stagingPath);
      if (n > 0) this.log.info({ volumeId, stagingPath }, 'volume unstaged');
      return {};
    });
  }

  async publish(req: PublishReq): Promise<object> {
    const volumeId = requireField(req.volumeId, 'volume_id', '');
    const targetPath = requirePath(req.targetPath, 'target_path', volumeId);
    const cap = parseCapability(req.volumeCapability, volumeId);
    const readOnly = Boolean(req.readonly) || cap.readOnlyMode;
    if (cap.kind === 'block') {
      return this.exclusive(volumeId, async () => {
        const device = await findDevice(volumeId, req.publishContext ?? {}, this.config);
        await mkdir(dirname(targetPath), { recursive: true });
        const target = await canonical(targetPath);
        if (mountAt(await readMounts(), target)) {
          // A bind-mounted device node: stat() at the target shows the node it binds.
          const st = await stat(target);
          if (st.isBlockDevice() && majorMinor(st.rdev) === device.majorMinor) return {};
          throw alreadyExists(`volume ${volumeId}: ${targetPath} already has another device bound, not ${device.path}`);
        }
        const existing = await lstatOrUndefined(target);
        if (existing && !existing.isFile()) throw alreadyExists(`volume ${volumeId}: ${targetPath} exists and is not a file (block volumes are bound to a file)`);
        if (!existing) await writeFile(target, '', { flag: 'wx' });
        await this.bind(volumeId, device.path, target, readOnly, targetPath);
        this.log.info({ volumeId, device: device.path, targetPath, readOnly }, 'block volume published');
        return {};
      });
    }
    const stagingPath = requirePath(req.stagingTargetPath, 'staging_target_path', volumeId);
    return this.exclusive(volumeId, async () => {
      const mounts = await readMounts();
      const staged = mountAt(mounts, await canonical(stagingPath));
      if (!staged) throw failedPrecondition(`volume ${volumeId} is not staged at ${stagingPath} (NodeStageVolume first)`);
      await mkdir(targetPath, { recursive: true });
      const target = await canonical(targetPath);
      const current = mountAt(mounts, target);
      if (current) {
        if (current.majorMinor === staged.majorMinor && isReadOnly(current) === readOnly) return {};
        throw alreadyExists(
          `volume ${volumeId}: ${targetPath} already has ${current.source} mounted${isReadOnly(current) ? ' read-only' : ''}, incompatible with this request (read-only: ${readOnly})`,
        );
      }
      await this.bind(volumeId, staged.mountPoint, target, readOnly, targetPath);
      this.log.info({ volumeId, stagingPath, targetPath, readOnly }, 'volume published');
      return {};
    });
  }

  private async bind(volumeId: string, source: string, target: string, readOnly: boolean, shownPath: string): Promise<void> {
    await this.mountOrFail(volumeId, ['--bind', source, target], shownPath);
    if (!readOnly) return;
    // A bind mount takes `ro` only on a remount.
    const r = await run('mount', ['-o', 'remount,bind,ro', target]);
    if (r.code !== 0) {
      await run('umount', [target]);
      throw internal(`volume ${volumeId}: making ${shownPath} read-only failed: ${(r.stderr || r.stdout).trim()}`);
    }
  }

  async unpublish(req: UnpublishReq): Promise<object> {
    const volumeId = requireField(req.volumeId, 'volume_id', '');
    const targetPath = requirePath(req.targetPath, 'target_path', volumeId);
    return this.exclusive(volumeId, async () => {
      await this.unmountAll(volumeId, targetPath);
      const st = await lstatOrUndefined(targetPath);
      if (!st) return {};
      // rmdir and unlink of an empty file only: if anything is left in the path it is data, and it stays.
      try {
        if (st.isDirectory()) await rmdir(targetPath);
        else if (st.isFile() && st.size === 0) await unlink(targetPath);
        else throw new Error('not an empty directory or file');
      } catch (err) {
        throw internal(`volume ${volumeId}: unmounted, but ${targetPath} was not removed: ${(err as Error).message}`);
      }
      this.log.info({ volumeId, targetPath }, 'volume unpublished');
      return {};
    });
  }

  /** The mount at a volume path, or NotFound naming volume and path. */
  private async mountedAt(volumeId: string, volumePath: string): Promise<MountEntry> {
    if (!(await lstatOrUndefined(volumePath))) throw notFound(`volume ${volumeId}: path ${volumePath} does not exist`);
    const m = mountAt(await readMounts(), await canonical(volumePath));
    if (!m) throw notFound(`volume ${volumeId} is not mounted at ${volumePath}`);
    return m;
  }

  async getVolumeStats(req: PathReq): Promise<object> {
    const volumeId = requireField(req.volumeId, 'volume_id', '');
    const volumePath = requireField(req.volumePath, 'volume_path', `volume ${volumeId}`);
    const st = await lstatOrUndefined(volumePath);
    if (!st) throw notFound(`volume ${volumeId}: path ${volumePath} does not exist`);
    const mount = await this.mountedAt(volumeId, volumePath);
    const real = await stat(volumePath);
    if (real.isBlockDevice()) {
      return { usage: [{ unit: 'BYTES', total: await deviceSizeBytes(majorMinor(real.rdev), this.config.sysRoot) }] };
    }
    const fs = await statfs(mount.mountPoint);
    return {
      usage: [
        { unit: 'BYTES', total: fs.blocks * fs.bsize, available: fs.bavail * fs.bsize, used: (fs.blocks - fs.bfree) * fs.bsize },
        { unit: 'INODES', total: fs.files, available: fs.ffree, used: fs.files - fs.ffree },
      ],
    };
  }

  /**
   * CSI 1.13 moved volume conditions out of NodeGetVolumeStats into this call: a path the CO gives
   * that is not mounted any more is INACCESSIBLE (the pod's data is not where it expects it).
   */
  async getVolumeHealth(req: HealthReq): Promise<object> {
    const volumeId = requireField(req.volumeId, 'volume_id', '');
    const statuses: { status: string; reason: string; message: string }[] = [];
    const mounts = await readMounts();
    for (const [field, path] of [
      ['staging path', req.stagingTargetPath],
      ['publish path', req.volumePublishPath],
    ] as const) {
      if (!path) continue;
      if (!mountAt(mounts, await canonical(path))) {
        statuses.push({ status: 'INACCESSIBLE', reason: 'NotMounted', message: `volume ${volumeId}: ${field} ${path} is not mounted` });
      }
    }
    return { volumeHealth: { volumeId, healthStatuses: statuses } };
  }

  async expand(req: PathReq): Promise<object> {
    const volumeId = requireField(req.volumeId, 'volume_id', '');
    const volumePath = requireField(req.volumePath, 'volume_path', `volume ${volumeId}`);
    return this.exclusive(volumeId, async () => {
      const mount = await this.mountedAt(volumeId, volumePath);
      const real = await stat(volumePath);
      // A block volume grows with its device; the pod sees the new size without a filesystem step.
      if (real.isBlockDevice()) return { capacityBytes: await deviceSizeBytes(majorMinor(real.rdev), this.config.sysRoot) };
      const grow = growCommand(mount.fsType, mount.source, mount.mountPoint);
      if (!grow) throw failedPrecondition(`volume ${volumeId}: cannot grow a ${mount.fsType} filesystem at ${volumePath}`);
      const before = await statfs(mount.mountPoint);
      const r = await run(grow[0], grow[1], 600_000);
      if (r.code !== 0) throw internal(`volume ${volumeId}: ${grow[0]} ${grow[1].join(' ')} (at ${volumePath}) failed: ${(r.stderr || r.stdout).trim()}`);
      const after = await statfs(mount.mountPoint);
      this.log.info({ volumeId, volumePath, fsType: mount.fsType, bytesBefore: before.blocks * before.bsize, bytesAfter: after.blocks * after.bsize }, 'filesystem grown');
      return { capacityBytes: await deviceSizeBytes(mount.majorMinor, this.config.sysRoot) };
    });
  }
}
