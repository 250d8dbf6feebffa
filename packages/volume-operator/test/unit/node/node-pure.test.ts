import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';
import { DRIVER_NAME as CONTROLLER_DRIVER_NAME } from '../../../src/constants.ts';
import { checkNvmeSerial, deviceCandidates, findDevice, majorMinor, nitroLinkPath, nitroSerial } from '../../../src/node/device.ts';
import { CsiError } from '../../../src/node/errors.ts';
import { attachLimit, parseNodeFlags } from '../../../src/node/flags.ts';
import { readInstanceIdentity } from '../../../src/node/imds.ts';
import { DRIVER_NAME } from '../../../src/node/identity.ts';
import { mountAt, parseMountInfo } from '../../../src/node/mountinfo.ts';
import { growCommand, mkfsCommand, mountOptions, parseBlkid } from '../../../src/node/probe.ts';
import { parseCapability, requirePath } from '../../../src/node/validate.ts';

function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof CsiError ? err.code : -1;
  }
  return undefined;
}

async function codeOfAsync(p: Promise<unknown>): Promise<{ code: number; message: string } | undefined> {
  try {
    await p;
  } catch (err) {
    return err instanceof CsiError ? { code: err.code, message: err.message } : { code: -1, message: String(err) };
  }
  return undefined;
}

const tmp = await mkdtemp(join(tmpdir(), 'csi-unit-'));
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('device lookup names', () => {
  it('derives the Nitro serial and by-id link from the volume ID', () => {
    expect(nitroSerial('vol-0123456789abcdef0')).toBe('vol0123456789abcdef0');
    expect(nitroSerial('vol-01234567')).toBe('vol01234567');
    expect(nitroLinkPath('vol-0123456789abcdef0')).toBe('disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0');
  });

  it('refuses IDs that are not EBS volume IDs (they would name another path)', () => {
    for (const id of ['vol-../../etc', 'snap-0123456789abcdef0', 'vol-0123456789ABCDEF0', 'vol-012', '']) {
      expect(codeOf(() => nitroSerial(id)), id).toBe(status.INVALID_ARGUMENT);
    }
  });

  it('looks at the by-id link first, then the attachment device name, both under the device root', () => {
    expect(deviceCandidates('vol-0123456789abcdef0', { devicePath: '/dev/xvdba' }, '/host/dev')).toEqual([
      '/host/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0',
      '/host/dev/xvdba',
    ]);
    expect(deviceCandidates('vol-0123456789abcdef0', {}, '/dev')).toHaveLength(1);
    expect(codeOf(() => deviceCandidates('vol-0123456789abcdef0', { devicePath: '/dev/../etc/passwd' }, '/dev'))).toBe(status.INVALID_ARGUMENT);
    expect(codeOf(() => deviceCandidates('vol-0123456789abcdef0', { devicePath: 'xvdba' }, '/dev'))).toBe(status.INVALID_ARGUMENT);
  });

  it('decodes device numbers as mountinfo prints them', () => {
    expect(majorMinor(7 * 256 + 3)).toBe('7:3');
    expect(majorMinor(259 * 256 + 1)).toBe('259:1');
    // minor 256 of major 7: the kernel's new encoding puts minor's high bits above bit 20
    expect(majorMinor((7 << 8) | (256 << 12))).toBe('7:256');
  });

  it('gives NotFound after the bounded wait, naming volume and paths', async () => {
    const t = Date.now();
    const e = await codeOfAsync(findDevice('vol-0123456789abcdef0', { devicePath: '/dev/xvdbz' }, { deviceRoot: tmp, sysRoot: tmp, timeoutMs: 300, pollMs: 50 }));
    expect(e?.code).toBe(status.NOT_FOUND);
    expect(e?.message).toContain('vol-0123456789abcdef0');
    expect(e?.message).toContain(join(tmp, 'xvdbz'));
    expect(Date.now() - t).toBeGreaterThanOrEqual(300);
  });

  it('refuses a link that does not lead to a block device', async () => {
    const root = join(tmp, 'notblock');
    await mkdir(join(root, 'disk/by-id'), { recursive: true });
    await writeFile(join(root, 'file'), 'data');
    await symlink(join(root, 'file'), join(root, 'disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0'));
    const e = await codeOfAsync(findDevice('vol-0123456789abcdef0', {}, { deviceRoot: root, sysRoot: tmp, timeoutMs: 100 }));
    expect(e?.code).toBe(status.FAILED_PRECONDITION);
  });

  it('refuses an NVMe device whose serial is another volume', async () => {
    const sys = join(tmp, 'sys');
    await mkdir(join(sys, 'class/block/nvme1n1/device'), { recursive: true });
    await writeFile(join(sys, 'class/block/nvme1n1/device/serial'), 'vol0fffffffffffffff0  \n');
    const e = await codeOfAsync(checkNvmeSerial('vol-0123456789abcdef0', '/dev/nvme1n1', sys));
    expect(e?.code).toBe(status.FAILED_PRECONDITION);
    expect(e?.message).toContain('vol0fffffffffffffff0');
    await writeFile(join(sys, 'class/block/nvme1n1/device/serial'), 'vol0123456789abcdef0\n');
    await expect(checkNvmeSerial('vol-0123456789abcdef0', '/dev/nvme1n1', sys)).resolves.toBeUndefined();
    // No serial readable: not used either.
    expect((await codeOfAsync(checkNvmeSerial('vol-0123456789abcdef0', '/dev/nvme2n1', sys)))?.code).toBe(status.FAILED_PRECONDITION);
    // Not NVMe (Xen's xvd*, loop devices): no serial to check.
    await expect(checkNvmeSerial('vol-0123456789abcdef0', '/dev/xvdba', sys)).resolves.toBeUndefined();
  });
});

describe('filesystem detection (blkid -p -o export)', () => {
  it('only exit 2 with no output is an empty device', () => {
    expect(parseBlkid(2, '')).toEqual({ kind: 'empty' });
    expect(parseBlkid(0, 'DEVNAME=/dev/loop3\nUUID=1b2c\nVERSION=1.0\nBLOCK_SIZE=4096\nTYPE=ext4\nUSAGE=filesystem\n')).toEqual({ kind: 'filesystem', type: 'ext4' });
    expect(parseBlkid(0, 'DEVNAME=/dev/loop3\nUUID=aa\nTYPE=xfs\n')).toEqual({ kind: 'filesystem', type: 'xfs' });
    expect(parseBlkid(0, 'DEVNAME=/dev/loop3\nTYPE=crypto_LUKS\nUSAGE=crypto\n')).toEqual({ kind: 'filesystem', type: 'crypto_LUKS' });
  });

  it('a partition table wins over anything else', () => {
    expect(parseBlkid(0, 'DEVNAME=/dev/loop3\nPTUUID=5f0e\nPTTYPE=gpt\n')).toEqual({ kind: 'partition-table', type: 'gpt' });
    expect(parseBlkid(0, 'PTTYPE=dos\nTYPE=vfat\n')).toEqual({ kind: 'partition-table', type: 'dos' });
  });

  it('any other exit is an error, never "empty"', () => {
    expect(() => parseBlkid(8, '', 'ambivalent result (probably more filesystems on the device)')).toThrow(/ambivalent/);
    expect(() => parseBlkid(4, '', 'usage error')).toThrow(/exited 4/);
    expect(() => parseBlkid(2, 'TYPE=ext4')).toThrow();
    expect(parseBlkid(0, 'DEVNAME=/dev/loop3\n')).toEqual({ kind: 'unknown', detail: 'DEVNAME=/dev/loop3' });
  });

  it('mkfs, mount options and grow commands per filesystem', () => {
    expect(mkfsCommand('ext4', '/dev/loop3')).toEqual(['mkfs.ext4', ['-F', '-m0', '/dev/loop3']]);
    expect(mkfsCommand('ext3', '/dev/loop3')).toEqual(['mkfs.ext3', ['-F', '-m0', '/dev/loop3']]);
    expect(mkfsCommand('xfs', '/dev/loop3')).toEqual(['mkfs.xfs', ['/dev/loop3']]);
    expect(mountOptions('ext4', [])).toEqual(['defaults']);
    expect(mountOptions('ext4', ['noatime,nodiratime', ' discard '])).toEqual(['noatime', 'nodiratime', 'discard']);
    expect(mountOptions('xfs', [])).toEqual(['nouuid']);
    expect(growCommand('ext4', '/dev/loop3', '/m')).toEqual(['resize2fs', ['/dev/loop3']]);
    expect(growCommand('xfs', '/dev/loop3', '/m')).toEqual(['xfs_growfs', ['/m']]);
    expect(growCommand('vfat', '/dev/loop3', '/m')).toBeUndefined();
  });
});

describe('mountinfo', () => {
  const text = [
    '22 1 259:1 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p1 rw',
    '120 22 7:3 / /var/lib/kubelet/plugins/kubernetes.io/csi/ebs.kube-iaas.dev/abc/globalmount rw,relatime shared:50 - ext4 /dev/loop3 rw',
    '121 22 7:3 / /var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/pvc-1/mount ro,relatime shared:50 - ext4 /dev/loop3 rw',
    '122 22 0:5 /loop4 /tmp/with\\040space/blk rw,nosuid master:2 - devtmpfs udev rw,size=4k',
    '123 22 7:5 / /tmp/stacked rw - xfs /dev/loop5 rw',
    '124 123 7:6 / /tmp/stacked rw - ext4 /dev/loop6 rw',
  ].join('\n');

  it('parses fields, optional tags and octal escapes', () => {
    const e = parseMountInfo(text);
    expect(e).toHaveLength(6);
    expect(e[1]).toMatchObject({ majorMinor: '7:3', fsType: 'ext4', source: '/dev/loop3', root: '/' });
    expect(e[2]?.options).toContain('ro');
    expect(e[3]).toMatchObject({ mountPoint: '/tmp/with space/blk', root: '/loop4', fsType: 'devtmpfs' });
  });

  it('the last mount at a path is the visible one', () => {
    expect(mountAt(parseMountInfo(text), '/tmp/stacked')?.source).toBe('/dev/loop6');
    expect(mountAt(parseMountInfo(text), '/tmp/none')).toBeUndefined();
  });
});

describe('argument validation → gRPC codes', () => {
  const mode = { mode: 'SINGLE_NODE_WRITER' };
  it('a missing capability, access type or mode is InvalidArgument', () => {
    expect(codeOf(() => parseCapability(null, 'vol-1'))).toBe(status.INVALID_ARGUMENT);
    expect(codeOf(() => parseCapability({ accessMode: mode }, 'vol-1'))).toBe(status.INVALID_ARGUMENT);
    expect(codeOf(() => parseCapability({ accessType: 'mount', mount: {} }, 'vol-1'))).toBe(status.INVALID_ARGUMENT);
    expect(codeOf(() => parseCapability({ accessType: 'mount', mount: {}, accessMode: { mode: 'MULTI_NODE_MULTI_WRITER' } }, 'vol-1'))).toBe(status.INVALID_ARGUMENT);
  });

  it('fsType: ext4 by default, ext3 and xfs accepted, anything else InvalidArgument naming it', () => {
    expect(parseCapability({ accessType: 'mount', mount: { fsType: '' }, accessMode: mode }, 'vol-1')).toMatchObject({ kind: 'mount', fsType: 'ext4' });
    expect(parseCapability({ accessType: 'mount', mount: { fsType: 'XFS' }, accessMode: mode }, 'vol-1')).toMatchObject({ fsType: 'xfs' });
    expect(parseCapability({ accessType: 'mount', mount: { fsType: 'ext3', mountFlags: ['noatime'] }, accessMode: mode }, 'vol-1')).toMatchObject({ fsType: 'ext3', mountFlags: ['noatime'] });
    let msg = '';
    try {
      parseCapability({ accessType: 'mount', mount: { fsType: 'btrfs' }, accessMode: mode }, 'vol-1');
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/vol-1.*btrfs.*ext4, ext3, xfs/);
    expect(codeOf(() => parseCapability({ accessType: 'mount', mount: { mountFlags: ['a b'] }, accessMode: mode }, 'vol-1'))).toBe(status.INVALID_ARGUMENT);
  });

  it('block access and the read-only mode', () => {
    expect(parseCapability({ accessType: 'block', block: {}, accessMode: mode }, 'vol-1')).toEqual({ kind: 'block', readOnlyMode: false });
    expect(parseCapability({ block: {}, accessMode: { mode: 'SINGLE_NODE_READER_ONLY' } }, 'vol-1')).toEqual({ kind: 'block', readOnlyMode: true });
  });

  it('paths must be given and absolute', () => {
    expect(codeOf(() => requirePath('', 'target_path', 'vol-1'))).toBe(status.INVALID_ARGUMENT);
    expect(codeOf(() => requirePath('some/path', 'target_path', 'vol-1'))).toBe(status.INVALID_ARGUMENT);
    expect(requirePath('/var/lib/kubelet/x', 'target_path', 'vol-1')).toBe('/var/lib/kubelet/x');
  });
});

describe('flags', () => {
  it('node ID and zone from flags or environment; empty means instance metadata', () => {
    expect(parseNodeFlags([], {})).toMatchObject({ nodeId: '', zone: '' });
    expect(parseNodeFlags(['--node-id=i-1', '--zone=a'], { NODE_ID: 'i-2' })).toMatchObject({ nodeId: 'i-1', zone: 'a' });
    expect(() => parseNodeFlags(['--node-id=i-1', '--zone=a', '--bogus'], {})).toThrow(/bogus/);
    expect(() => parseNodeFlags(['--hypervisor=kvm'], {})).toThrow(/--hypervisor/);
  });

  it("defaults the attach limit to core's EBS slot count (the number the controller and the simulator use)", () => {
    const limit = (argv: string[], enis?: number) => attachLimit(parseNodeFlags(argv, {}).attachLimit, enis);
    const f = parseNodeFlags([], { NODE_ID: 'i-1', NODE_ZONE: 'cn-northwest-1a' });
    expect(f).toMatchObject({ nodeId: 'i-1', zone: 'cn-northwest-1a', deviceRoot: '/dev', endpoint: 'unix:///csi/csi.sock', timeoutMs: 30_000 });
    expect(limit([])).toBe(26);
    expect(limit([], 3)).toBe(24); // three ENIs listed by instance metadata
    expect(limit(['--attached-enis=2'], 3)).toBe(25); // the flag wins
    expect(limit(['--hypervisor=xen'])).toBe(38);
    expect(limit(['--volume-attach-limit=5'], 3)).toBe(5);
    expect(() => parseNodeFlags(['--volume-attach-limit=-1'], {})).toThrow(/volume-attach-limit/);
  });

  it('reads instance ID, zone and ENIs from IMDSv2 (token first)', async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${String(req.headers['x-aws-ec2-metadata-token'] ?? req.headers['x-aws-ec2-metadata-token-ttl-seconds'] ?? '')}`);
      const answers: Record<string, string> = {
        '/latest/api/token': 'TOKEN',
        '/latest/meta-data/instance-id': 'i-0abc',
        '/latest/meta-data/placement/availability-zone': 'cn-northwest-1b',
        '/latest/meta-data/network/interfaces/macs/': '0e:aa:bb:cc:dd:01/\n0e:aa:bb:cc:dd:02/\n',
      };
      const body = answers[req.url ?? ''];
      if (req.url !== '/latest/api/token' && req.headers['x-aws-ec2-metadata-token'] !== 'TOKEN') res.writeHead(401).end();
      else if (body === undefined) res.writeHead(404).end();
      else res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      expect(await readInstanceIdentity(`http://127.0.0.1:${port}/`)).toEqual({ instanceId: 'i-0abc', zone: 'cn-northwest-1b', attachedEnis: 2 });
      expect(seen[0]).toBe('PUT /latest/api/token 300');
    } finally {
      server.close();
    }
  });

  it('the node plugin announces the driver name the controller uses', () => {
    expect(DRIVER_NAME).toBe(CONTROLLER_DRIVER_NAME);
  });
});
