import { lstat, readFile, realpath, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { failedPrecondition, invalidArgument, notFound } from './errors.ts';
import { pollUntil } from '@kube-iaas/core/retry';

/** EBS volume IDs: `vol-` and 8 (old) or 17 hexadecimal digits. */
const EBS_VOLUME_ID = /^vol-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

/** The NVMe serial EBS gives a volume on Nitro instances: the volume ID without its dash. */
export function nitroSerial(volumeId: string): string {
  if (!EBS_VOLUME_ID.test(volumeId)) throw invalidArgument(`volume_id "${volumeId}" is not an EBS volume ID (vol- and 8 or 17 hex digits)`);
  return volumeId.replace('-', '');
}

/** The udev link a Nitro instance gets for the volume's NVMe namespace, relative to the device root. */
export function nitroLinkPath(volumeId: string): string {
  return join('disk', 'by-id', `nvme-Amazon_Elastic_Block_Store_${nitroSerial(volumeId)}`);
}

/**
 * Where the volume's block device may appear, first match wins: the Nitro by-id link (named after the
 * serial, so it cannot be another volume), then the device name of the attachment (publish context
 * `devicePath`, e.g. `/dev/xvdba` on Xen), both under the device root.
 */
export function deviceCandidates(volumeId: string, publishContext: Record<string, string>, deviceRoot: string): string[] {
  const out = [join(deviceRoot, nitroLinkPath(volumeId))];
  const devicePath = publishContext['devicePath'];
  if (devicePath) {
    if (!/^\/dev\/[A-Za-z0-9_-]+$/.test(devicePath)) {
      throw invalidArgument(`volume ${volumeId}: publish_context devicePath "${devicePath}" is not a device name under /dev`);
    }
    out.push(join(deviceRoot, devicePath.slice('/dev/'.length)));
  }
  return out;
}

/** `major:minor` of a device number as Linux encodes it (and /proc/self/mountinfo prints it). */
export function majorMinor(rdev: number): string {
  const major = Math.floor(rdev / 256) & 0xfff;
  const minor = (rdev & 0xff) | (Math.floor(rdev / 4096) & 0xfff00);
  return `${major}:${minor}`;
}

export interface FoundDevice {
  /** Real path of the block device node (links resolved). */
  path: string;
  /** The candidate it was found through. */
  via: string;
  majorMinor: string;
}

export interface DeviceLookup {
  deviceRoot: string;
  sysRoot: string;
  timeoutMs: number;
  pollMs?: number;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Waits (bounded) for the volume's device. A device found through the attachment's device name that is
 * an NVMe namespace must carry the volume's serial: on Nitro a stale device name could point at another
 * volume, and using it would be writing to someone else's data.
 */
export async function findDevice(volumeId: string, publishContext: Record<string, string>, opts: DeviceLookup): Promise<FoundDevice> {
  const candidates = deviceCandidates(volumeId, publishContext, opts.deviceRoot);
  return pollUntil(
    async () => {
      for (const candidate of candidates) {
        if (!(await exists(candidate))) continue;
        const path = await realpath(candidate);
        const st = await stat(path);
        if (!st.isBlockDevice()) throw failedPrecondition(`volume ${volumeId}: ${candidate} (${path}) is not a block device`);
        await checkNvmeSerial(volumeId, path, opts.sysRoot);
        return { path, via: candidate, majorMinor: majorMinor(st.rdev) };
      }
      return undefined;
    },
    {
      intervalMs: opts.pollMs ?? 200,
      deadline: Date.now() + opts.timeoutMs,
      onTimeout: () => notFound(`volume ${volumeId}: no block device appeared at ${candidates.join(' or ')} within ${Math.round(opts.timeoutMs / 1000)}s (is the volume attached to this node?)`),
    },
  );
}

export async function checkNvmeSerial(volumeId: string, devicePath: string, sysRoot: string): Promise<void> {
  const name = basename(devicePath);
  if (!/^nvme\d+n\d+$/.test(name)) return;
  let serial: string;
  try {
    serial = (await readFile(join(sysRoot, 'class', 'block', name, 'device', 'serial'), 'utf8')).trim();
  } catch {
    throw failedPrecondition(`volume ${volumeId}: cannot read the NVMe serial of ${devicePath}; refusing to use a device that may be another volume`);
  }
  if (serial !== nitroSerial(volumeId)) {
    throw failedPrecondition(`volume ${volumeId}: ${devicePath} has serial ${serial}, not ${nitroSerial(volumeId)}; refusing to use another volume's device`);
  }
}

/** Size in bytes of a block device, from sysfs (512-byte sectors). */
export async function deviceSizeBytes(mm: string, sysRoot: string): Promise<number> {
  const sectors = Number((await readFile(join(sysRoot, 'dev', 'block', mm, 'size'), 'utf8')).trim());
  return sectors * 512;
}
