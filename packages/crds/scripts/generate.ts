// Writes the generated files (CRD YAML, all.yaml, TypeScript types, validators) from src/sources.
//   node scripts/generate.ts          write them (removing generated CRD files no source produces)
//   node scripts/generate.ts --check  only compare; exit 1 and name the stale files
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { GENERATED_DIRS, renderAll } from './render.ts';

export const PACKAGE_ROOT = resolve(import.meta.dirname, '..');

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Generated files whose content differs from what the sources produce, and leftovers no source produces. */
export function staleFiles(root: string = PACKAGE_ROOT): { stale: string[]; extra: string[] } {
  const files = renderAll();
  const stale = [...files].filter(([rel, content]) => read(join(root, rel)) !== content).map(([rel]) => rel);
  const present: string[] = [];
  for (const dir of GENERATED_DIRS) {
    try {
      present.push(...readdirSync(join(root, dir)).map((f) => `${dir}/${f}`));
    } catch {
      // no directory yet: everything in it is stale already
    }
  }
  const extra = present.filter((p) => !files.has(p));
  return { stale, extra };
}

function main(): void {
  const check = process.argv.includes('--check');
  if (check) {
    const { stale, extra } = staleFiles();
    if (stale.length || extra.length) {
      for (const f of stale) console.error(`stale: packages/crds/${f}`);
      for (const f of extra) console.error(`not produced by any source: packages/crds/${f}`);
      console.error('run: npm run generate -w @kube-iaas/crds');
      process.exit(1);
    }
    console.log('generated files are up to date');
    return;
  }
  const files = renderAll();
  const { extra } = staleFiles();
  for (const f of extra) rmSync(join(PACKAGE_ROOT, f));
  for (const [rel, content] of files) {
    const path = join(PACKAGE_ROOT, rel);
    mkdirSync(dirname(path), { recursive: true });
    if (read(path) !== content) {
      writeFileSync(path, content);
      console.log(`wrote ${rel}`);
    }
  }
}

if (import.meta.filename === process.argv[1] || resolve(process.argv[1] ?? '') === import.meta.filename) main();
