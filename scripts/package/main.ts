// `npm run package` (every operator, through Nx) or `node scripts/package/main.ts <operator>…`: the
// bundle, the OCI image and the Helm chart of each operator into dist/.
// --version=<v> builds at another version than package.json's (the upgrade test's "previous release").
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bundle } from './bundle.ts';
import { assembleChart, helmBinary, packageChart } from './chart.ts';
import { buildOperatorImage } from './image.ts';
import { TARGETS, packageVersion, target, type ShipTarget } from './targets.ts';

export interface Shipped {
  name: string;
  version: string;
  image: string;
  digest: string;
  compressedMB: number;
  uncompressedMB: number;
  chart: string;
}

const mb = (n: number) => Math.round(n / 1e5) / 10;

export async function ship(t: ShipTarget, opts: { version?: string; helm?: string; skipImage?: boolean } = {}): Promise<Shipped> {
  const bundles = await bundle(t);
  console.log(`[package ${t.name}] bundle: ${bundles.map((b) => `${b.name}.mjs ${mb(b.bytes)} MB`).join(', ')}`);
  let image = { file: '', digest: '', compressedSize: 0, uncompressedSize: 0 };
  if (!opts.skipImage) {
    image = buildOperatorImage(t, { ...(opts.version ? { version: opts.version } : {}) });
    console.log(`[package ${t.name}] image: ${image.file} ${image.digest} (${mb(image.compressedSize)} MB compressed, ${mb(image.uncompressedSize)} MB unpacked)`);
  }
  const dir = mkdtempSync(join(tmpdir(), `chart-${t.name}-`));
  try {
    const chartDir = join(dir, t.name);
    await assembleChart(t, chartDir, opts.version);
    const chart = packageChart(opts.helm ?? helmBinary(), chartDir, t, opts.version);
    console.log(`[package ${t.name}] chart: ${chart}`);
    return { name: t.name, version: opts.version ?? packageVersion(t), image: image.file, digest: image.digest, compressedMB: mb(image.compressedSize), uncompressedMB: mb(image.uncompressedSize), chart };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { version: { type: 'string' }, 'skip-image': { type: 'boolean', default: false } } });
  const targets = positionals.length ? positionals.map(target) : TARGETS;
  const helm = helmBinary();
  for (const t of targets) await ship(t, { helm, skipImage: values['skip-image'], ...(values.version ? { version: values.version } : {}) });
}
