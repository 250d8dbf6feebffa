import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The machine's side of the simulated EBS volumes: file-backed loop devices, the mounts the node
 * plugin makes, and the kubelet's path layout under the simulator's root. Everything the simulator
 * puts on the machine lives under one root, so a scrub by that root removes exactly what it made.
 */

export const EBS_DRIVER = 'ebs.kube-iaas.dev';

/** The layout under the simulator's root; `<root>/ebs` holds the volumes' data and outlives attachments. */
export const storageLayout = (root: string) => ({
  data: join(root, 'ebs'),
  dataFile: (volumeId: string) => join(root, 'ebs', `${volumeId}.img`),
  sockets: join(root, 'sock'),
  socket: (instanceId: string) => join(root, 'sock', `${instanceId}.sock`),
  node: (instanceId: string) => join(root, 'nodes', instanceId),
  deviceRoot: (instanceId: string) => join(root, 'nodes', instanceId, 'dev'),
  kubelet: (instanceId: string) => join(root, 'nodes', instanceId, 'kubelet'),
});

/** The link udev makes on Nitro from the NVMe serial (the volume ID without its dash). */
export function nitroLink(deviceRoot: string, volumeId: string): string {
  return join(deviceRoot, 'disk', 'by-id', `nvme-Amazon_Elastic_Block_Store_${volumeId.replace('-', '')}`);
}

/** kubelet (>= 1.24): one global mount per volume, named by the SHA-256 of the volume handle. */
export function stagingPath(kubeletRoot: string, driver: string, volumeHandle: string): string {
  return join(kubeletRoot, 'plugins', 'kubernetes.io', 'csi', driver, createHash('sha256').update(volumeHandle).digest('hex'), 'globalmount');
}

export function podVolumePath(kubeletRoot: string, podUid: string, pvName: string): string {
  return join(kubeletRoot, 'pods', podUid, 'volumes', 'kubernetes.io~csi', pvName, 'mount');
}

/** kubelet's block layout: staging per PV, the device published to a file per pod. */
export function blockStagingPath(kubeletRoot: string, pvName: string): string {
  return join(kubeletRoot, 'plugins', 'kubernetes.io', 'csi', 'volumeDevices', 'staging', pvName);
}

export function blockPublishPath(kubeletRoot: string, pvName: string, podUid: string): string {
  return join(kubeletRoot, 'plugins', 'kubernetes.io', 'csi', 'volumeDevices', 'publish', pvName, podUid);
}

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Why loop devices cannot be used here, or undefined when they can (root, loop-control, losetup). */
export function loopDevicesUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root';
  try {
    accessSync('/dev/loop-control', constants.W_OK);
  } catch {
    return '/dev/loop-control is not available';
  }
  for (const tool of ['losetup', 'blkid', 'mount', 'umount']) {
    try {
      sh('sh', ['-c', `command -v ${tool}`]);
    } catch {
      return `${tool} is not installed`;
    }
  }
  return undefined;
}

/** Loop devices whose backing file lies under `dir`. */
export function loopsBackedUnder(dir: string): { name: string; file: string }[] {
  const j = JSON.parse(sh('losetup', ['-J', '-l']) || '{"loopdevices":[]}') as { loopdevices: { name: string; 'back-file': string | null }[] };
  // A deleted backing file shows as "<path> (deleted)".
  return j.loopdevices
    .map((l) => ({ name: l.name, file: (l['back-file'] ?? '').replace(/ \(deleted\)$/, '') }))
    .filter((l) => l.file === dir || l.file.startsWith(`${dir}/`));
}

/** Mount points under `dir`, deepest first (the order to unmount them in). */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => (l.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === dir || p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

/**
 * Unmounts everything under `root` and detaches every loop device backed by a file under it. Also the
 * crash path: what a killed simulator left is found again by its root, not by memory.
 */
export function scrubHostStorage(root: string): { mounts: number; loops: number } {
  if (!existsSync(root)) return { mounts: 0, loops: 0 };
  let mounts = 0;
  for (let i = 0; i < 4; i++) {
    const left = mountsUnder(root);
    if (left.length === 0) break;
    for (const m of left) {
      try {
        sh('umount', [m]);
        mounts++;
      } catch {
        /* a busy or stacked mount: retried, then detached lazily below */
      }
    }
  }
  for (const m of mountsUnder(root)) {
    sh('umount', ['-l', m]);
    mounts++;
  }
  const loops = loopsBackedUnder(root);
  for (const l of loops) sh('losetup', ['-d', l.name]);
  return { mounts, loops: loops.length };
}
