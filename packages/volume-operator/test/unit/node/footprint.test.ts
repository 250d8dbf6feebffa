// The node plugin runs on every node: it must not load the AWS SDK or the Kubernetes client. This
// walks the static import graph from src/node/main.ts (relative files and @kube-iaas/* subpaths).
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const pkgRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const packagesDir = resolve(pkgRoot, '..');

function resolveWorkspace(spec: string): string | undefined {
  const m = /^@kube-iaas\/([^/]+)(\/.*)?$/.exec(spec);
  if (!m?.[1]) return undefined;
  const dir = join(packagesDir, m[1]);
  const exportsMap = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { exports: Record<string, string> }).exports;
  const target = exportsMap[`.${m[2] ?? ''}`];
  if (!target) throw new Error(`${spec} is not exported by @kube-iaas/${m[1]}`);
  return join(dir, target);
}

function importGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'|import\('([^']+)'\)/gm)) {
      if (m[2]) continue; // type-only: erased before run time
      const spec = m[3] ?? m[4] ?? m[5]!;
      if (spec.startsWith('.')) todo.push(resolve(dirname(file), spec));
      else if (spec.startsWith('@kube-iaas/')) {
        packages.add(spec);
        const f = resolveWorkspace(spec);
        if (f) todo.push(f);
      } else packages.add(spec);
    }
  }
  return { files, packages };
}

it('src/node/main.ts loads neither the AWS SDK nor the Kubernetes client', () => {
  const { files, packages } = importGraph(join(pkgRoot, 'src/node/main.ts'));
  const heavy = [...packages].filter((p) => /^@aws-sdk\/|^@smithy\/|^@kubernetes\/|^@dot-i\/|^@kube-iaas\/(core|crds)$/.test(p));
  expect(heavy).toEqual([]);
  expect([...packages].filter((p) => !p.startsWith('node:')).sort()).toEqual(['@grpc/grpc-js', '@grpc/proto-loader', '@kube-iaas/core/instance-types/facts', '@kube-iaas/core/log', '@kube-iaas/core/retry', 'pino']);
  expect(files.size).toBeGreaterThan(5);
});
