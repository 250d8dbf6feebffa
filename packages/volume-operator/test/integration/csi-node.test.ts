// The node plugin process on loop devices, as kubelet would drive it: the article's ext4 flow (format
// on first use, data kept across unstage/restage, online growth), xfs, block mode, and bad input with
// nothing lost. Numbers (NodeStage times, stats latency, RSS after 100 cycles) are printed.
import { readFileSync, statSync, statfsSync, writeFileSync, existsSync, openSync, writeSync, closeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, clients, ensureTools, loadCsi, machineCounts, mountsUnder, requireRoot, scrubAndExpectClean, sh, startPlugin, Workspace, type PluginProcess } from './node/csi-harness.ts';

const GiB = 1 << 30;
const MODE = { mode: 'SINGLE_NODE_WRITER' };
const mountCap = (fsType = 'ext4', mountFlags: string[] = []) => ({ mount: { fsType, mountFlags }, accessMode: MODE });
const blockCap = { block: {}, accessMode: MODE };

function blkidType(dev: string): string {
  try {
    return sh('blkid', ['-p', '-o', 'value', '-s', 'TYPE', dev]).trim();
  } catch {
    return '';
  }
}

/** CAP_SYS_RESOURCE (bit 24) in this process's effective set. */
function hasCapSysResource(): boolean {
  const eff = /^CapEff:\s+([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
  return (BigInt(`0x${eff}`) & (1n << 24n)) !== 0n;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}

describe('CSI node plugin on loop devices', () => {
  let ws: Workspace;
  let plugin: PluginProcess | undefined;
  let c: ReturnType<typeof clients>;
  const stageTimes = { fresh: [] as number[], formatted: [] as number[] };

  beforeAll(async () => {
    requireRoot();
    const tools = ensureTools();
    ws = await Workspace.create('csi-node');
    expect(machineCounts(ws.dir)).toEqual({ loops: 0, mounts: 0 });
    plugin = await startPlugin(ws, tools.protoPath);
    c = clients(await loadCsi(tools.protoPath), ws.socket);
  }, 600_000);

  afterAll(async () => {
    c?.close();
    await plugin?.stop();
    if (!ws) return;
    scrubAndExpectClean(ws.dir, 'the tests');
    console.log(
      `NodeStage fresh (mkfs + mount): ${stageTimes.fresh.map((t) => `${t} ms`).join(', ')}; already formatted p50 ${pct(stageTimes.formatted, 50)} ms, p99 ${pct(stageTimes.formatted, 99)} ms (n=${stageTimes.formatted.length})`,
    );
  }, 120_000);

  const paths = (name: string) => ({ staging: join(ws.dir, 'kubelet', name, 'globalmount'), target: join(ws.dir, 'kubelet', 'pods', name, 'mount') });

  async function stage(volumeId: string, staging: string, cap: object = mountCap()) {
    const t = performance.now();
    const r = await call(c.node, 'NodeStageVolume', { volumeId, stagingTargetPath: staging, volumeCapability: cap, publishContext: { devicePath: '/dev/xvdba' } });
    return { r, ms: Math.round(performance.now() - t) };
  }

  it('ext4: formats a fresh volume once, keeps its data across unstage and restage, publishes read-only, grows online', async () => {
    const id = await ws.createVolume(GiB);
    const dev = ws.attach(id);
    const p = paths('ext4');
    await mkdir(p.staging, { recursive: true });
    const first = await stage(id, p.staging, mountCap('ext4', ['noatime']));
    expect(first.r).toMatchObject({ ok: true });
    stageTimes.fresh.push(first.ms);
    expect(blkidType(dev)).toBe('ext4');
    expect(await stage(id, p.staging, mountCap('ext4', ['noatime']))).toMatchObject({ r: { ok: true } }); // idempotent
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).toMatch(new RegExp(`${p.staging} \\S*noatime`));

    expect(await call(c.node, 'NodePublishVolume', { volumeId: id, stagingTargetPath: p.staging, targetPath: p.target, volumeCapability: mountCap() })).toMatchObject({ ok: true });
    expect(await call(c.node, 'NodePublishVolume', { volumeId: id, stagingTargetPath: p.staging, targetPath: p.target, volumeCapability: mountCap() })).toMatchObject({ ok: true });
    writeFileSync(join(p.target, 'article.txt'), 'written by the pod\n');
    // A repeat asking for read-only at the same path is an incompatible repeat.
    const ro = await call(c.node, 'NodePublishVolume', { volumeId: id, stagingTargetPath: p.staging, targetPath: p.target, volumeCapability: mountCap(), readonly: true });
    expect(ro).toMatchObject({ ok: false, code: status.ALREADY_EXISTS });
    expect(ro.ok ? '' : ro.details).toContain(p.target);

    const stats = await call<{ usage: { unit: string; total: number; used: number; available: number }[] }>(c.node, 'NodeGetVolumeStats', { volumeId: id, volumePath: p.target });
    expect(stats.ok).toBe(true);
    const usage = stats.ok ? stats.res.usage : [];
    expect(usage.find((u) => u.unit === 'BYTES')?.total).toBeGreaterThan(0.9 * GiB);
    expect(usage.find((u) => u.unit === 'INODES')?.used).toBeGreaterThan(10);
    expect(await call(c.node, 'NodeGetVolumeHealth', { volumeId: id, volumePublishPath: p.target, stagingTargetPath: p.staging })).toMatchObject({
      ok: true,
      res: { volumeHealth: { volumeId: id, healthStatuses: [] } },
    });

    // A second, read-only publish (another pod with readOnly: true).
    const roTarget = join(ws.dir, 'kubelet', 'pods', 'ext4-ro', 'mount');
    expect(await call(c.node, 'NodePublishVolume', { volumeId: id, stagingTargetPath: p.staging, targetPath: roTarget, volumeCapability: mountCap(), readonly: true })).toMatchObject({ ok: true });
    expect(readFileSync(join(roTarget, 'article.txt'), 'utf8')).toBe('written by the pod\n');
    expect(() => writeFileSync(join(roTarget, 'nope'), 'x')).toThrow(/EROFS|read-only/);
    expect(await call(c.node, 'NodeUnpublishVolume', { volumeId: id, targetPath: roTarget })).toMatchObject({ ok: true });

    // Pod deleted: unpublish removes the target; unstage twice is fine; the health call sees it gone.
    expect(await call(c.node, 'NodeUnpublishVolume', { volumeId: id, targetPath: p.target })).toMatchObject({ ok: true });
    expect(existsSync(p.target)).toBe(false);
    expect(await call(c.node, 'NodeUnpublishVolume', { volumeId: id, targetPath: p.target })).toMatchObject({ ok: true });
    const health = await call(c.node, 'NodeGetVolumeHealth', { volumeId: id, volumePublishPath: p.target });
    expect(health).toMatchObject({ ok: true, res: { volumeHealth: { healthStatuses: [{ status: 'INACCESSIBLE', reason: 'NotMounted' }] } } });
    expect(await call(c.node, 'NodeUnstageVolume', { volumeId: id, stagingTargetPath: p.staging })).toMatchObject({ ok: true });
    expect(await call(c.node, 'NodeUnstageVolume', { volumeId: id, stagingTargetPath: p.staging })).toMatchObject({ ok: true });
    expect(await call(c.node, 'NodeGetVolumeStats', { volumeId: id, volumePath: p.staging })).toMatchObject({ ok: false, code: status.NOT_FOUND });

    // Detach and attach again (another loop device): the data is there, nothing was reformatted.
    await ws.detach(id);
    ws.attach(id);
    const again = await stage(id, p.staging);
    expect(again.r).toMatchObject({ ok: true });
    stageTimes.formatted.push(again.ms);
    expect(await call(c.node, 'NodePublishVolume', { volumeId: id, stagingTargetPath: p.staging, targetPath: p.target, volumeCapability: mountCap() })).toMatchObject({ ok: true });
    expect(readFileSync(join(p.target, 'article.txt'), 'utf8')).toBe('written by the pod\n');
    expect(plugin!.output().split('filesystem created').length - 1).toBe(1);

    // The PVC grows: EBS grows the device, kubelet asks the plugin to grow the filesystem online.
    const before = statfsSync(p.target);
    await ws.grow(id, 2 * GiB);
    const grown = await call<{ capacityBytes: number }>(c.node, 'NodeExpandVolume', { volumeId: id, volumePath: p.target, capacityRange: { requiredBytes: 2 * GiB } });
    if (hasCapSysResource()) {
      expect(grown.ok ? grown.res : grown.details).toMatchObject({ capacityBytes: 2 * GiB });
      const after = statfsSync(p.target);
      expect(after.blocks * after.bsize).toBeGreaterThan(1.9 * GiB);
      expect(after.blocks).toBeGreaterThan(before.blocks);
    } else {
      // ext4's online resize ioctl needs CAP_SYS_RESOURCE, which this machine's container lacks (the
      // DaemonSet is privileged). The call must then fail loudly, naming volume, path and cause.
      console.log('no CAP_SYS_RESOURCE here: ext4 online growth checked for its error only (xfs growth is checked below)');
      expect(grown).toMatchObject({ ok: false, code: status.INTERNAL });
      expect(grown.ok ? '' : grown.details).toMatch(new RegExp(`${id}: resize2fs [\\s\\S]*${p.target}[\\s\\S]*Permission denied`));
      expect(statfsSync(p.target).blocks).toBe(before.blocks);
    }
    expect(readFileSync(join(p.target, 'article.txt'), 'utf8')).toBe('written by the pod\n');

    expect(await call(c.node, 'NodeUnpublishVolume', { volumeId: id, targetPath: p.target })).toMatchObject({ ok: true });
    expect(await call(c.node, 'NodeUnstageVolume', { volumeId: id, stagingTargetPath: p.staging })).toMatchObject({ ok: true });
    await ws.deleteVolume(id);
  }, 180_000);

  it('xfs: formats, mounts and grows with xfs_growfs', async () => {
    const id = await ws.createVolume(512 << 20);
    const dev = ws.attach(id);
    const p = paths('xfs');
    const s = await stage(id, p.staging, mountCap('xfs'));
    expect(s.r).toMatchObject({ ok: true });
    stageTimes.fresh.push(s.ms);
    expect(blkidType(dev)).toBe('xfs');
    expect(await call(c.node, 'NodePublishVolume', { volumeId: id, stagingTargetPath: p.staging, targetPath: p.target, volumeCapability: mountCap('xfs') })).toMatchObject({ ok: true });
    await ws.grow(id, GiB);
    expect(await call(c.node, 'NodeExpandVolume', { volumeId: id, volumePath: p.target })).toMatchObject({ ok: true, res: { capacityBytes: GiB } });
    const st = statfsSync(p.target);
    expect(st.blocks * st.bsize).toBeGreaterThan(0.9 * GiB);
    expect(await call(c.node, 'NodeUnpublishVolume', { volumeId: id, targetPath: p.target })).toMatchObject({ ok: true });
    expect(await call(c.node, 'NodeUnstageVolume', { volumeId: id, stagingTargetPath: p.staging })).toMatchObject({ ok: true });
    await ws.deleteVolume(id);
  }, 120_000);

  it('volumeMode Block: the pod gets the device itself, bound to a file, and it is removed on unpublish', async () => {
    const id = await ws.createVolume(GiB);
    ws.attach(id);
    const target = join(ws.dir, 'kubelet', 'pods', 'blk', 'volumeDevices', id);
    expect(await call(c.node, 'NodeStageVolume', { volumeId: id, stagingTargetPath: paths('blk').staging, volumeCapability: blockCap })).toMatchObject({ ok: true });
    expect(await call(c.node, 'NodePublishVolume', { volumeId: id, targetPath: target, volumeCapability: blockCap, publishContext: {} })).toMatchObject({ ok: true });
    expect(await call(c.node, 'NodePublishVolume', { volumeId: id, targetPath: target, volumeCapability: blockCap, publishContext: {} })).toMatchObject({ ok: true });
    expect(statSync(target).isBlockDevice()).toBe(true);
    expect(await call(c.node, 'NodeGetVolumeStats', { volumeId: id, volumePath: target })).toMatchObject({ ok: true, res: { usage: [{ unit: 'BYTES', total: GiB }] } });
    expect(blkidType(target)).toBe(''); // never formatted
    expect(await call(c.node, 'NodeUnpublishVolume', { volumeId: id, targetPath: target })).toMatchObject({ ok: true });
    expect(existsSync(target)).toBe(false);
    await ws.deleteVolume(id);
  }, 60_000);

  it('refuses a device that holds another filesystem, and its data is intact afterwards', async () => {
    const id = await ws.createVolume(512 << 20);
    const dev = ws.attach(id);
    sh('mkfs.xfs', ['-q', dev]);
    const scratch = join(ws.dir, 'scratch');
    await mkdir(scratch, { recursive: true });
    sh('mount', [dev, scratch]);
    writeFileSync(join(scratch, 'precious'), 'keep me');
    sh('umount', [scratch]);

    const p = paths('foreign');
    const r = await stage(id, p.staging, mountCap('ext4'));
    expect(r.r).toMatchObject({ ok: false, code: status.FAILED_PRECONDITION });
    expect(r.r.ok ? '' : r.r.details).toMatch(new RegExp(`${id}.*xfs.*not reformatted`));
    expect(blkidType(dev)).toBe('xfs');
    sh('mount', ['-o', 'ro', dev, scratch]);
    expect(readFileSync(join(scratch, 'precious'), 'utf8')).toBe('keep me');
    sh('umount', [scratch]);
    await ws.deleteVolume(id);
  }, 60_000);

  it('refuses a device with a partition table and formats nothing', async () => {
    const id = await ws.createVolume(256 << 20);
    // An MBR with one Linux partition from sector 2048: what `fdisk` would write.
    const mbr = Buffer.alloc(512);
    mbr.set([0x00, 0x20, 0x21, 0x00, 0x83, 0xfe, 0xff, 0xff], 446);
    mbr.writeUInt32LE(2048, 446 + 8);
    mbr.writeUInt32LE((256 << 20) / 512 - 2048, 446 + 12);
    mbr.writeUInt16LE(0xaa55, 510);
    const fd = openSync(ws.fileOf(id), 'r+');
    writeSync(fd, mbr, 0, 512, 0);
    closeSync(fd);
    const dev = ws.attach(id);
    const r = await stage(id, paths('parted').staging);
    expect(r.r).toMatchObject({ ok: false, code: status.FAILED_PRECONDITION });
    expect(r.r.ok ? '' : r.r.details).toMatch(/dos partition table/);
    expect(sh('blkid', ['-p', '-o', 'value', '-s', 'PTTYPE', dev]).trim()).toBe('dos');
    expect(readFileSync(ws.fileOf(id)).subarray(0, 512).equals(mbr)).toBe(true);
    await ws.deleteVolume(id);
  }, 60_000);

  it('NotFound for a device that never appears, InvalidArgument for an unknown fsType', async () => {
    const id = await ws.createVolume(64 << 20); // never attached
    const t = Date.now();
    const missing = await stage(id, paths('missing').staging);
    expect(missing.r).toMatchObject({ ok: false, code: status.NOT_FOUND });
    expect(missing.r.ok ? '' : missing.r.details).toContain(id);
    expect(Date.now() - t).toBeGreaterThanOrEqual(2000); // --device-wait-timeout=2
    const btrfs = await stage(id, paths('missing').staging, mountCap('btrfs'));
    expect(btrfs.r).toMatchObject({ ok: false, code: status.INVALID_ARGUMENT });
    expect(btrfs.r.ok ? '' : btrfs.r.details).toMatch(/btrfs/);
    await ws.deleteVolume(id);
  }, 60_000);

  it('100 stage/publish/unpublish/unstage cycles: latency and the plugin resident memory', async () => {
    const id = await ws.createVolume(256 << 20);
    ws.attach(id);
    const p = paths('cycles');
    const idle = plugin!.rssKiB();
    const statsMs: number[] = [];
    for (let i = 0; i < 100; i++) {
      const s = await stage(id, p.staging);
      expect(s.r).toMatchObject({ ok: true });
      if (i > 0) stageTimes.formatted.push(s.ms);
      expect(await call(c.node, 'NodePublishVolume', { volumeId: id, stagingTargetPath: p.staging, targetPath: p.target, volumeCapability: mountCap() })).toMatchObject({ ok: true });
      const t = performance.now();
      expect(await call(c.node, 'NodeGetVolumeStats', { volumeId: id, volumePath: p.target })).toMatchObject({ ok: true });
      statsMs.push(performance.now() - t);
      expect(await call(c.node, 'NodeUnpublishVolume', { volumeId: id, targetPath: p.target })).toMatchObject({ ok: true });
      expect(await call(c.node, 'NodeUnstageVolume', { volumeId: id, stagingTargetPath: p.staging })).toMatchObject({ ok: true });
    }
    const after = plugin!.rssKiB();
    console.log(
      `plugin RSS idle ${Math.round(idle.rss / 1024)} MiB, after 100 cycles ${Math.round(after.rss / 1024)} MiB (peak ${Math.round(after.hwm / 1024)} MiB); ` +
        `NodeGetVolumeStats p50 ${pct(statsMs, 50).toFixed(1)} ms, p99 ${pct(statsMs, 99).toFixed(1)} ms`,
    );
    expect([...mountsUnder(p.staging), ...mountsUnder(p.target)]).toEqual([]);
    await ws.deleteVolume(id);
  }, 300_000);
});
