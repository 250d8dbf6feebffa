// The shipped form of an operator: one ESM file with every dependency inside, tree-shaken and
// minified by esbuild. `node scripts/bundle.ts [package …]` writes packages/<package>/dist/main.mjs
// (default: every *-operator package). The options live in `bundleOptions` so the packaging target
// and the footprint bench (packages/core/bench/footprint.ts) build the very same thing.
//
// Why these options (measured with packages/core/bench/footprint.ts, see packages/core/README.md):
// - bundling skips Node's type stripping (a WebAssembly compiler, ~25 MiB resident) and lets
//   tree-shaking drop what the process never calls (client-node's generated APIs, EC2 commands);
// - `mainFields: module, main` picks the AWS SDK's ES-module builds, the ones tree-shaking works on;
// - whitespace and syntax minifying halve the source V8 keeps in memory; identifiers stay readable
//   (stack traces and log lines name real functions), which costs little.
import { build, type BuildOptions } from 'esbuild';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * How to run a bundle (image entrypoint / chart defaults), each measured to lower the idle resident
 * set of lb-operator's bundle on the testbed (footprint bench, process `bundle+settings`):
 * - `--max-semi-space-size=1`: V8's young generation stays at 1 MiB instead of growing to 16
 *   (−6 MiB; an operator's allocations are small and short-lived);
 * - glibc with one malloc arena and trimming on every free (−8 MiB): the native heap left over
 *   from compiling the bundle at start goes back to the system instead of staying resident.
 * Not taken: `--lite-mode` (−8 MiB more, but no optimizing compiler: the scaler's planner and
 * large diffs run several times slower).
 */
export const BUNDLE_NODE_FLAGS = ['--max-semi-space-size=1'];
export const BUNDLE_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '1', MALLOC_TRIM_THRESHOLD_: '0' };

export function bundleOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    mainFields: ['module', 'main'],
    treeShaking: true,
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
    // CommonJS dependencies (pino, prom-client, …) call require() for Node's built-ins, which an
    // ESM file has no binding for.
    banner: { js: "import { createRequire as __kubeIaasCreateRequire } from 'node:module';\nconst require = __kubeIaasCreateRequire(import.meta.url);" },
  };
}

/** Where the bundle of `pkg` (a folder under packages/) goes. */
export function bundlePath(pkg: string): string {
  return join(REPO, 'packages', pkg, 'dist', 'main.mjs');
}

/** Every operator package with an entry point. */
export function operatorPackages(): string[] {
  return readdirSync(join(REPO, 'packages'))
    .filter((d) => d.endsWith('-operator'))
    .filter((d) => statSync(join(REPO, 'packages', d, 'src', 'main.ts'), { throwIfNoEntry: false })?.isFile());
}

export async function bundleOperator(pkg: string): Promise<{ path: string; bytes: number }> {
  const path = bundlePath(pkg);
  await build(bundleOptions(join(REPO, 'packages', pkg, 'src', 'main.ts'), path));
  return { path, bytes: statSync(path).size };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const pkgs = process.argv.slice(2);
  for (const pkg of pkgs.length ? pkgs : operatorPackages()) {
    const { path, bytes } = await bundleOperator(pkg);
    console.log(`${path} (${Math.round(bytes / 1024)} KiB)`);
  }
}
