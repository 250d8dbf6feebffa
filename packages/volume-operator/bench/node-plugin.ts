// Benchmark of the CSI node plugin on file-backed loop devices (root; no testbed needed): the real
// entry point as a child process, called over its socket as the kubelet calls it.
//  - NodeStage of a fresh 1 GiB volume (blkid finds nothing → mkfs.ext4 → mount), BENCH_FRESH volumes;
//  - NodeStage of an already formatted volume and NodeGetVolumeStats, over BENCH_CYCLES
//    stage/publish/stats/unpublish/unstage cycles;
//  - the plugin's resident set idle and after the cycles (VmRSS, and the peak VmHWM).
// Prints a table; the README keeps the numbers with the machine they came from.
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { call, clients, ensureTools, machineCounts, requireRoot, scrub, startPlugin, Workspace } from '../test/integration/node/csi-harness.ts';
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
const ws = await Workspace.create('bench-node');
const rows: [string, string][] = [];
const plugin = await startPlugin(ws, protoPath).catch((e: unknown) => {
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
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  const mib = (kib: number) => `${Math.round(kib / 1024)} MiB`;
  rows.push(
    [`NodeStage, fresh 1 GiB ext4 (mkfs + mount), n=${FRESH}`, `p50 ${ms(pct(fresh, 50))}, p99 ${ms(pct(fresh, 99))}`],
    [`NodeStage, already formatted, n=${CYCLES}`, `p50 ${ms(pct(formatted, 50))}, p99 ${ms(pct(formatted, 99))}`],
    [`NodeGetVolumeStats, n=${CYCLES}`, `p50 ${ms(pct(stats, 50))}, p99 ${ms(pct(stats, 99))}`],
    ['plugin RSS idle', mib(idle.rss)],
    [`plugin RSS after ${CYCLES} stage/publish/stats/unpublish/unstage cycles (peak)`, `${mib(after.rss)} (${mib(after.hwm)})`],
  );
} finally {
  c.close();
  await plugin.stop();
  scrub(ws.dir);
}
const left = machineCounts(ws.dir);
const w = Math.max(...rows.map((r) => r[0].length));
console.log(`\nCSI node plugin (node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, load ${loadavg()[0]?.toFixed(1)})`);
console.log(`| ${'measure'.padEnd(w)} | result |\n| ${'-'.repeat(w)} | --- |`);
for (const [k, v] of rows) console.log(`| ${k.padEnd(w)} | ${v} |`);
console.log(`left on the machine: ${left.loops} loop devices, ${left.mounts} mounts`);
