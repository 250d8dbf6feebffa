// Benchmark of the CSI node plugin on file-backed loop devices (root; no testbed needed): the real
// entry point as a child process, called over its socket as the kubelet calls it.
//  - NodeStage of a fresh 1 GiB volume (blkid finds nothing → mkfs.ext4 → mount), BENCH_FRESH volumes;
//  - NodeStage of an already formatted volume and NodeGetVolumeStats, over BENCH_CYCLES
//    stage/publish/stats/unpublish/unstage cycles;
//  - the plugin's resident set idle and after the cycles (VmRSS, and the peak VmHWM).
// Two shapes of the same plugin, one after the other: the source through Node's type stripping (as the
// tests run it) and the shipped bundle (built first, scripts/bundle-node.ts) with the DaemonSet's V8
// flags. Prints one table with the targets; the README keeps it with the machine it came from.
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { call, clients, ensureTools, machineCounts, PLUGIN_MAIN, requireRoot, scrub, startPlugin, Workspace, type PluginShape } from '../test/integration/node/csi-harness.ts';
import { BUNDLE_NODE_FLAGS, bundleNodePlugin } from '../scripts/bundle-node.ts';
import { loadCsi } from '../src/node/csi-spec.ts';

const FRESH = Number(process.env.BENCH_FRESH ?? 20);
const CYCLES = Number(process.env.BENCH_CYCLES ?? 100);
const GiB = 1 << 30;
const cap = { mount: { fsType: 'ext4', mountFlags: [] }, accessMode: { mode: 'SINGLE_NODE_WRITER' } };

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; r: T }> {
  const t = performance.now();
  const r = await fn();
  return { ms: performance.now() - t, r };
}

function must(r: { ok: boolean; details?: string }, what: string): void {
  if (!r.ok) throw new Error(`${what} failed: ${r.details}`);
}

requireRoot();
const { protoPath } = ensureTools();
const csi = await loadCsi(protoPath);

interface Measured {
  fresh: number[];
  formatted: number[];
  stats: number[];
  idle: { rss: number; hwm: number };
  after: { rss: number; hwm: number };
  /** Loop devices and mounts under the run's directory after cleanup (0 and 0). */
  left: { loops: number; mounts: number };
}

async function measure(shape: PluginShape): Promise<Measured> {
  let m: Omit<Measured, 'left'>;
  const ws = await Workspace.create('bench-node');
  const plugin = await startPlugin(ws, protoPath, [], shape).catch((e: unknown) => {
    scrub(ws.dir);
    throw e;
  });
  const c = clients(csi, ws.socket);
  try {
    const idle = plugin.rssKiB();
    const fresh: number[] = [];
    for (let i = 0; i < FRESH; i++) {
      const id = await ws.createVolume(GiB);
      ws.attach(id);
      const staging = join(ws.dir, 'stage', id);
      await mkdir(staging, { recursive: true });
      const s = await timed(() => call(c.node, 'NodeStageVolume', { volumeId: id, stagingTargetPath: staging, volumeCapability: cap }));
      must(s.r, 'NodeStage (fresh)');
      fresh.push(s.ms);
      must(await call(c.node, 'NodeUnstageVolume', { volumeId: id, stagingTargetPath: staging }), 'NodeUnstage');
      await ws.deleteVolume(id);
    }

    const id = await ws.createVolume(GiB);
    ws.attach(id);
    const staging = join(ws.dir, 'stage', 'cycles');
    const target = join(ws.dir, 'pods', 'cycles', 'mount');
    await mkdir(staging, { recursive: true });
    await mkdir(join(ws.dir, 'pods', 'cycles'), { recursive: true });
    must(await call(c.node, 'NodeStageVolume', { volumeId: id, stagingTargetPath: staging, volumeCapability: cap }), 'first NodeStage');
    must(await call(c.node, 'NodeUnstageVolume', { volumeId: id, stagingTargetPath: staging }), 'NodeUnstage');
    const formatted: number[] = [];
    const stats: number[] = [];
    for (let i = 0; i < CYCLES; i++) {
      const s = await timed(() => call(c.node, 'NodeStageVolume', { volumeId: id, stagingTargetPath: staging, volumeCapability: cap }));
      must(s.r, 'NodeStage (formatted)');
      formatted.push(s.ms);
      must(await call(c.node, 'NodePublishVolume', { volumeId: id, stagingTargetPath: staging, targetPath: target, volumeCapability: cap }), 'NodePublish');
      const st = await timed(() => call(c.node, 'NodeGetVolumeStats', { volumeId: id, volumePath: target }));
      must(st.r, 'NodeGetVolumeStats');
      stats.push(st.ms);
      must(await call(c.node, 'NodeUnpublishVolume', { volumeId: id, targetPath: target }), 'NodeUnpublish');
      must(await call(c.node, 'NodeUnstageVolume', { volumeId: id, stagingTargetPath: staging }), 'NodeUnstage');
    }
    const after = plugin.rssKiB();
    await ws.deleteVolume(id);
    m = { fresh, formatted, stats, idle, after };
  } finally {
    c.close();
    await plugin.stop();
    scrub(ws.dir);
  }
  return { ...m, left: machineCounts(ws.dir) };
}

const bundle = await bundleNodePlugin();
const source = await measure({ main: PLUGIN_MAIN, nodeFlags: [] });
const bundled = await measure({ main: bundle.path, nodeFlags: BUNDLE_NODE_FLAGS });

const ms = (x: number) => `${x.toFixed(1)} ms`;
const mib = (kib: number) => `${Math.round(kib / 1024)} MiB`;
const p = (xs: number[]) => `p50 ${ms(pct(xs, 50))}, p99 ${ms(pct(xs, 99))}`;
const rows: [string, string, (m: Measured) => string][] = [
  [`NodeStage, fresh 1 GiB ext4 (mkfs + mount), n=${FRESH}`, '', (m) => p(m.fresh)],
  [`NodeStage, already formatted, n=${CYCLES}`, '', (m) => p(m.formatted)],
  [`NodeGetVolumeStats, n=${CYCLES}`, '', (m) => p(m.stats)],
  ['plugin RSS idle', '< 80 MiB', (m) => mib(m.idle.rss)],
  [`plugin RSS after ${CYCLES} stage/publish/stats/unpublish/unstage cycles (peak)`, '< 80 MiB', (m) => `${mib(m.after.rss)} (${mib(m.after.hwm)})`],
];
const head = ['measure', 'target', 'node src/node/main.ts', `node ${BUNDLE_NODE_FLAGS.join(' ')} dist/node-plugin.mjs`];
const table = [head, head.map(() => '---'), ...rows.map(([k, t, f]) => [k, t, f(source), f(bundled)])];
console.log(`\nCSI node plugin (node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, load ${loadavg()[0]?.toFixed(1)}; bundle ${Math.round(bundle.bytes / 1024)} KiB)`);
for (const r of table) console.log(`| ${r.join(' | ')} |`);
const left = [source.left, bundled.left];
console.log(`left on the machine: ${left.map((l) => `${l.loops} loop devices, ${l.mounts} mounts`).join('; ')}`);
