// The production bundle of one operator: each entry point becomes one ESM file with every dependency
// inside (dist/bundle/<entry>.mjs) and its source map next to it, so the image needs no node_modules and
// a stack trace still names the .ts line (node --enable-source-maps, which the image sets).
import { build } from 'esbuild';
import { rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { bundlePath, packageDir, packageVersion, type ShipTarget } from './targets.ts';

export interface BundledEntry {
  name: string;
  path: string;
  bytes: number;
}

/**
 * `--version` is answered before anything else loads, so it works without a kubeconfig or AWS settings
 * and proves the image's runtime in one call. CommonJS dependencies (@grpc/grpc-js, pino, the AWS SDK's
 * own CJS parts) call require() for Node's built-ins, which an ESM file has no binding for.
 */
function banner(t: ShipTarget, entry: string, version: string): string {
  return [
    "import { createRequire as __kubeIaasCreateRequire } from 'node:module';",
    'const require = __kubeIaasCreateRequire(import.meta.url);',
    `if (process.argv.includes('--version')) { process.stdout.write(${JSON.stringify(`${t.name} ${entry} ${version}\n`)}); process.exit(0); }`,
  ].join('\n');
}

export async function bundle(t: ShipTarget): Promise<BundledEntry[]> {
  const dir = packageDir(t);
  const version = packageVersion(t);
  await rm(join(dir, 'dist', 'bundle'), { recursive: true, force: true });
  const out: BundledEntry[] = [];
  for (const e of t.entries) {
    const outfile = bundlePath(t, e.name);
    await build({
      entryPoints: [join(dir, e.src)],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node24',
      // Minified to keep the image small; function and class names stay (keepNames) for logs and
      // error names, and the source map (node --enable-source-maps) gives stack traces their .ts lines.
      minify: true,
      keepNames: true,
      sourcemap: 'linked',
      // Mappings only: the sources themselves are in the repository at the image's version label.
      sourcesContent: false,
      // Paths in the map relative to the bundle, so the map is the same on every machine.
      sourceRoot: '',
      legalComments: 'eof',
      logLevel: 'warning',
      banner: { js: banner(t, e.name, version) },
      define: { 'process.env.KUBE_IAAS_BUNDLED': '"1"' },
      absWorkingDir: dirname(dir),
    });
    out.push({ name: e.name, path: outfile, bytes: (await stat(outfile)).size });
  }
  return out;
}
