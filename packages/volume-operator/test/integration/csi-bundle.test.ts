// The shipped form of the node plugin: the bundle (scripts/bundle-node.ts) run with the DaemonSet's
// V8 flags, on a loop device. Built here from the current source, so a dependency that does not
// survive bundling (a dynamic require, a file read beside a module) fails CI, not a node.
// Memory is reported, not asserted: its target belongs to the benchmark.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pkg from '../../package.json' with { type: 'json' };
import { BUNDLE_NODE_FLAGS, bundleNodePlugin } from '../../scripts/bundle-node.ts';
import { call, clients, ensureTools, loadCsi, mountsUnder, NODE_ID, requireRoot, scrubAndExpectClean, startPlugin, Workspace, type PluginProcess } from './node/csi-harness.ts';

describe('CSI node plugin: the bundle with the shipped V8 flags', () => {
  let ws: Workspace | undefined;
  let plugin: PluginProcess | undefined;
  let c: ReturnType<typeof clients> | undefined;

  beforeAll(async () => {
    requireRoot();
    const { protoPath } = ensureTools();
    const bundle = await bundleNodePlugin();
    ws = await Workspace.create('csi-bundle');
    plugin = await startPlugin(ws, protoPath, [], { main: bundle.path, nodeFlags: BUNDLE_NODE_FLAGS });
    c = clients(await loadCsi(protoPath), ws.socket);
  }, 600_000);

  afterAll(async () => {
    c?.close();
    await plugin?.stop();
    if (!ws) return;
    scrubAndExpectClean(ws.dir, 'the bundled plugin');
  }, 120_000);

  it('answers Identity and NodeGetInfo, and stages, publishes and tears down a volume', async () => {
    const w = ws!;
    const { identity, node } = c!;
    const args = plugin!.proc.spawnargs;
    // The process really is the bundle under the flags (not the source through type stripping).
    expect(args.slice(1, 1 + BUNDLE_NODE_FLAGS.length)).toEqual(BUNDLE_NODE_FLAGS);
    expect(args[1 + BUNDLE_NODE_FLAGS.length]).toMatch(/dist\/node-plugin\.mjs$/);

    const info = await call<{ name: string; vendorVersion: string }>(identity, 'GetPluginInfo', {});
    expect(info).toMatchObject({ ok: true, res: { name: 'ebs.kube-iaas.dev', vendorVersion: pkg.version } });
    expect(await call(identity, 'Probe', {})).toMatchObject({ ok: true });
    expect(await call(node, 'NodeGetInfo', {})).toMatchObject({ ok: true, res: { nodeId: NODE_ID, maxVolumesPerNode: 26 } });
    const idle = plugin!.rssKiB();

    const id = await w.createVolume(256 << 20);
    w.attach(id);
    const staging = join(w.dir, 'stage', id);
    const target = join(w.dir, 'pods', 'p1', 'mount');
    await mkdir(staging, { recursive: true });
    await mkdir(join(w.dir, 'pods', 'p1'), { recursive: true });
    const cap = { mount: { fsType: 'ext4', mountFlags: [] }, accessMode: { mode: 'SINGLE_NODE_WRITER' } };
    expect(await call(node, 'NodeStageVolume', { volumeId: id, stagingTargetPath: staging, volumeCapability: cap })).toMatchObject({ ok: true });
    expect(await call(node, 'NodePublishVolume', { volumeId: id, stagingTargetPath: staging, targetPath: target, volumeCapability: cap })).toMatchObject({ ok: true });
    expect(mountsUnder(w.dir).sort()).toEqual([staging, target].sort());
    await writeFile(join(target, 'hello'), 'from the bundle');
    const stats = await call<{ usage: { unit: string; total: string }[] }>(node, 'NodeGetVolumeStats', { volumeId: id, volumePath: target });
    expect(stats.ok && stats.res.usage.find((u) => u.unit === 'BYTES')?.total).toBeTruthy();
    expect(await call(node, 'NodeUnpublishVolume', { volumeId: id, targetPath: target })).toMatchObject({ ok: true });
    expect(await call(node, 'NodeUnstageVolume', { volumeId: id, stagingTargetPath: staging })).toMatchObject({ ok: true });
    expect(mountsUnder(w.dir)).toEqual([]);

    // The data is on the device: staged again, the file reads back.
    expect(await call(node, 'NodeStageVolume', { volumeId: id, stagingTargetPath: staging, volumeCapability: cap })).toMatchObject({ ok: true });
    expect(await readFile(join(staging, 'hello'), 'utf8')).toBe('from the bundle');
    expect(await call(node, 'NodeUnstageVolume', { volumeId: id, stagingTargetPath: staging })).toMatchObject({ ok: true });
    await w.deleteVolume(id);

    const after = plugin!.rssKiB();
    const mib = (k: number) => `${Math.round(k / 1024)} MiB`;
    console.log(`bundled plugin (${BUNDLE_NODE_FLAGS.join(' ')}): RSS idle ${mib(idle.rss)}, after one cycle ${mib(after.rss)} (peak ${mib(after.hwm)})`);
  }, 120_000);
});
