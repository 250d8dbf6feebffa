// Footprint of every operator on the testbed (issue #16): resident set after it idled, and start-up
// (process start → informers synced, lease acquired, /readyz 200), for each shape of the process:
//   source  `node packages/<op>/src/main.ts` (type stripping, every module as a file: how tests run)
//   bundle  `node packages/<op>/dist/main.mjs` (scripts/bundle.ts: tree-shaken, minified)
//   bundle+settings  the same with BUNDLE_NODE_FLAGS and BUNDLE_ENV (scripts/bundle.ts)
//   all-in-one  the five operators in one process (packages/all-in-one, bundled the same way)
// with the figures measured before this work beside them. Each shape runs FOOTPRINT_RUNS times
// (default 3); the table shows medians. Environment: FOOTPRINT_RUNS, FOOTPRINT_IDLE_MS (default
// 8000), FOOTPRINT_OPERATORS (comma list), FOOTPRINT_SHAPES (comma list), FOOTPRINT_ROOT (measure
// another checkout's sources, as the "before" figures were).
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { up } from '@kube-iaas/testbed';
import { testbedEnv } from '@kube-iaas/testbed/testing';
import { BUNDLE_ENV, BUNDLE_NODE_FLAGS, bundleOperator, bundlePath, operatorPackages, REPO } from '../../../scripts/bundle.ts';
import { median, measureOnce, type Measured } from './footprint-probe.ts';

const RUNS = Number(process.env.FOOTPRINT_RUNS ?? 3);
const IDLE_MS = Number(process.env.FOOTPRINT_IDLE_MS ?? 8_000);
const ROOT = process.env.FOOTPRINT_ROOT ?? REPO;
const OPS = (process.env.FOOTPRINT_OPERATORS?.split(',') ?? operatorPackages()).filter(Boolean);
const SHAPES = (process.env.FOOTPRINT_SHAPES ?? 'source,bundle,bundle+settings,all-in-one').split(',');

/**
 * Before this work (commit 7a06e07, `node src/main.ts`, this bench with FOOTPRINT_ROOT pointing at
 * that checkout, same machine, 2026-12-03 with six other testbeds running — start-up times of a
 * busy machine): idle RSS MiB and start-up p50 ms.
 */
const BEFORE: Record<string, { rss: number; readyMs: number }> = {
  'eni-operator': { rss: 248, readyMs: 3554 },
  'ingress-operator': { rss: 247, readyMs: 5266 },
  'lb-operator': { rss: 247, readyMs: 9270 },
  'scaler-operator': { rss: 247, readyMs: 7556 },
  'volume-operator': { rss: 248, readyMs: 17340 },
};

await up(() => undefined);
const env = { ...process.env, ...testbedEnv().env };
const node = process.execPath;

interface Row {
  name: string;
  shape: string;
  runs: Measured[];
}
const rows: Row[] = [];

async function measure(name: string, shape: string, args: string[], leases = 1): Promise<void> {
  const runs: Measured[] = [];
  const tuned = shape.endsWith('+settings');
  const full = tuned ? [...BUNDLE_NODE_FLAGS, ...args] : args;
  for (let i = 0; i < RUNS; i++) runs.push(await measureOnce(node, full, tuned ? { ...env, ...BUNDLE_ENV } : env, IDLE_MS, leases));
  rows.push({ name, shape, runs });
  const m = (f: (r: Measured) => number) => median(runs.map(f)).toFixed(0);
  console.error(`${name} ${shape}: rss ${m((r) => r.idle.rss)} MiB, ready ${m((r) => r.times.ready)} ms`);
}

for (const op of OPS) {
  if (SHAPES.includes('source')) await measure(op, 'source', [join(ROOT, 'packages', op, 'src', 'main.ts')]);
  if (SHAPES.includes('bundle') || SHAPES.includes('bundle+settings')) await bundleOperator(op);
  if (SHAPES.includes('bundle')) await measure(op, 'bundle', [bundlePath(op)]);
  if (SHAPES.includes('bundle+settings')) await measure(op, 'bundle+settings', [bundlePath(op)]);
}
if (SHAPES.includes('all-in-one') && OPS.length > 1) {
  await bundleOperator('all-in-one');
  const short = OPS.map((o) => o.replace(/-operator$/, ''));
  const aio = [bundlePath('all-in-one'), `--operators=${short.join(',')}`];
  await measure(`all-in-one (${short.join(', ')})`, 'bundle', aio, OPS.length);
  await measure(`all-in-one (${short.join(', ')})`, 'bundle+settings', aio, OPS.length);
}

const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '–');
const med = (r: Row, f: (m: Measured) => number) => median(r.runs.map(f));
console.log(`\nFootprint on the testbed — ${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; ${RUNS} runs each, idle = ${IDLE_MS / 1000} s after ready, medians\n`);
console.log('| operator | process | idle RSS MiB | before | target | start-up p50 ms | before | load + init | informers synced | leading | ready |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  const b = BEFORE[r.name];
  const target = r.name.startsWith('all-in-one') ? '–' : '≤ 100';
  console.log(
    `| ${r.name} | ${r.shape} | ${f0(med(r, (m) => m.idle.rss))} | ${f0(b?.rss ?? NaN)} | ${target} | ${f0(med(r, (m) => m.times.ready))} | ${f0(b?.readyMs ?? NaN)} | ${f0(med(r, (m) => m.times.started))} | ${f0(med(r, (m) => m.times.synced))} | ${f0(med(r, (m) => m.times.leading))} | ${f0(med(r, (m) => m.times.ready))} |`,
  );
}
console.log('\nWhere the idle resident set is (MiB, medians): pages of the node binary, glibc heap (native allocations), other anonymous memory (V8 heap pages, code, stacks); V8 heap used, external (source text, buffers), code + bytecode\n');
console.log('| operator | process | RSS | peak | node binary | malloc | anon (V8 …) | V8 heap used | external | code + bytecode |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  const v = (f: (x: NonNullable<Measured['v8']>) => number) => med(r, (m) => (m.v8 ? f(m.v8) : NaN));
  console.log(
    `| ${r.name} | ${r.shape} | ${f0(med(r, (m) => m.idle.rss))} | ${f0(med(r, (m) => m.idle.hwm))} | ${f0(med(r, (m) => m.idle.binary))} | ${f0(med(r, (m) => m.idle.malloc))} | ${f0(med(r, (m) => m.idle.anon))} | ${f0(v((x) => x.heapUsed))} | ${f0(v((x) => x.external))} | ${f0(v((x) => x.code + x.bytecode))} |`,
  );
}
