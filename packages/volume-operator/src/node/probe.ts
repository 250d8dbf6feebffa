/** What a device holds, as `blkid -p -o export` reports it. */
export type DeviceContent =
  | { kind: 'empty' }
  | { kind: 'filesystem'; type: string }
  | { kind: 'partition-table'; type: string }
  | { kind: 'unknown'; detail: string };

/**
 * Reads the verdict of `blkid -p -o export <device>` (low-level probing, no cache). Exit 2 is blkid's
 * "nothing found" — the only answer that lets us format. Any other failure (an ambivalent probe, an I/O
 * error) is thrown, so a device we cannot read is never taken for an empty one.
 */
export function parseBlkid(exitCode: number, stdout: string, stderr = ''): DeviceContent {
  if (exitCode === 2 && stdout.trim() === '') return { kind: 'empty' };
  if (exitCode !== 0) throw new Error(`blkid exited ${exitCode}: ${(stderr || stdout).trim() || 'no output'}`);
  const fields = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) fields.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const pt = fields.get('PTTYPE');
  if (pt) return { kind: 'partition-table', type: pt };
  const type = fields.get('TYPE');
  if (type) return { kind: 'filesystem', type };
  return { kind: 'unknown', detail: stdout.trim().replace(/\n/g, ' ') };
}

/** Filesystems the plugin creates and mounts; `csi.storage.k8s.io/fstype` picks one, ext4 by default. */
export const SUPPORTED_FS_TYPES = ['ext4', 'ext3', 'xfs'] as const;
export type FsType = (typeof SUPPORTED_FS_TYPES)[number];
export const DEFAULT_FS_TYPE: FsType = 'ext4';

export function isSupportedFsType(t: string): t is FsType {
  return (SUPPORTED_FS_TYPES as readonly string[]).includes(t);
}

/** mkfs for an empty device. mkfs.xfs runs without -f, so it too refuses a device with a signature. */
export function mkfsCommand(fsType: FsType, device: string): [string, string[]] {
  if (fsType === 'xfs') return ['mkfs.xfs', [device]];
  // -F: blkid found nothing and mke2fs would otherwise ask on a whole disk; -m0: no root-reserved
  // blocks on a data volume (what Kubernetes' mount utilities do).
  return [`mkfs.${fsType}`, ['-F', '-m0', device]];
}

/**
 * Options for mounting a staged filesystem: the StorageClass's mount options, plus `nouuid` for xfs
 * (a volume restored from a snapshot has the same UUID as its source and xfs refuses the second mount).
 */
export function mountOptions(fsType: FsType, flags: readonly string[]): string[] {
  const opts = flags.flatMap((f) => f.split(',')).map((f) => f.trim()).filter((f) => f !== '');
  if (fsType === 'xfs' && !opts.includes('nouuid')) opts.push('nouuid');
  return opts.length > 0 ? opts : ['defaults'];
}

/** Grows a mounted filesystem to its device's size. */
export function growCommand(fsType: string, device: string, mountPoint: string): [string, string[]] | undefined {
  if (fsType === 'xfs') return ['xfs_growfs', [mountPoint]];
  if (fsType === 'ext4' || fsType === 'ext3' || fsType === 'ext2') return ['resize2fs', [device]];
  return undefined;
}
