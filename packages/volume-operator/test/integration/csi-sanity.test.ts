// csi-sanity (kubernetes-csi/csi-test, built from the Go module proxy) against the real node plugin
// process on loop devices. Identity and Node specs run; Controller specs do not (the node plugin
// ships no Controller service — the one here is the harness's, see node/csi-harness.ts).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTools, loadCsi, machineCounts, requireRoot, scrubAndExpectClean, startFront, startPlugin, Workspace, type PluginProcess } from './node/csi-harness.ts';

interface SpecReport {
  State: string;
  LeafNodeType: string;
  LeafNodeText: string;
  ContainerHierarchyTexts: string[] | null;
  Failure?: { Message: string };
}

describe('CSI node plugin: csi-sanity', () => {
  let ws: Workspace | undefined;
  let plugin: PluginProcess | undefined;
  let front: Awaited<ReturnType<typeof startFront>> | undefined;
  let tools: ReturnType<typeof ensureTools>;

  beforeAll(async () => {
    requireRoot();
    tools = ensureTools();
    ws = await Workspace.create('csi-sanity');
    expect(machineCounts(ws.dir)).toEqual({ loops: 0, mounts: 0 });
    plugin = await startPlugin(ws, tools.protoPath);
    front = await startFront(await loadCsi(tools.protoPath), ws, join(ws.dir, 'front.sock'));
  }, 600_000);

  afterAll(async () => {
    await front?.close();
    await plugin?.stop();
    if (!ws) return;
    scrubAndExpectClean(ws.dir, 'the plugin and csi-sanity');
  }, 120_000);

  it('passes every Identity and Node spec', async () => {
    const w = ws!;
    const report = join(w.dir, 'sanity-report.json');
    const args = [
      `--csi.endpoint=unix://${join(w.dir, 'front.sock')}`,
      `--csi.stagingdir=${join(w.dir, 'sanity-staging')}`,
      `--csi.mountdir=${join(w.dir, 'sanity-mount')}`,
      `--csi.testvolumesize=${256 << 20}`,
      '--ginkgo.focus=Identity Service|Node Service',
      `--ginkgo.json-report=${report}`,
      '--ginkgo.no-color',
    ];
    const t = Date.now();
    const out = await new Promise<{ code: number; text: string }>((resolve) => {
      execFile(tools.sanity, args, { maxBuffer: 32 << 20, timeout: 480_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, text: stdout + stderr });
      });
    });
    const specs = (JSON.parse(readFileSync(report, 'utf8')) as { SpecReports: SpecReport[] }[]).flatMap((s) => s.SpecReports).filter((s) => s.LeafNodeType === 'It' && /^(Identity|Node) Service/.test(s.ContainerHierarchyTexts?.[0] ?? ''));
    const by = (state: string) => specs.filter((s) => s.State === state);
    const name = (s: SpecReport) => [...(s.ContainerHierarchyTexts ?? []), s.LeafNodeText].join(' / ');
    const rss = plugin!.rssKiB();
    console.log(
      `csi-sanity ${Date.now() - t} ms: ${by('passed').length} passed, ${by('skipped').length} skipped, ${by('failed').length + by('panicked').length} failed; ` +
        `plugin RSS ${Math.round(rss.rss / 1024)} MiB (peak ${Math.round(rss.hwm / 1024)} MiB)`,
    );
    const logs = plugin!.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; method?: string });
    const count = (msg: string) => logs.filter((l) => l.msg === msg).length;
    console.log(`plugin: ${count('filesystem created')} filesystems created, ${count('volume staged')} stages, ${count('volume published')} publishes, ${count('failed')} refused calls`);
    for (const s of by('skipped')) console.log(`skipped: ${name(s)}`);
    const failed = [...by('failed'), ...by('panicked')].map((s) => `${name(s)}: ${s.Failure?.Message ?? ''}`);
    expect(failed, `${out.text.slice(-4000)}\n--- plugin ---\n${plugin!.output().slice(-4000)}`).toEqual([]);
    expect(out.code).toBe(0);
    // Every skip is for a capability the plugin does not claim (listed in the README).
    const allowedSkips = [/single node multi writer/i, /NodeGetStorageHealth/];
    expect(by('skipped').map(name).filter((n) => !allowedSkips.some((r) => r.test(n)))).toEqual([]);
    expect(by('passed').length).toBeGreaterThan(25);
  }, 600_000);
});
