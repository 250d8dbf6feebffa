// Builds the shipped form of the CSI node plugin: one ESM file, dist/node-plugin.mjs, with every
// dependency inside (@grpc/*, pino, core's subpaths), so the image needs no node_modules for it.
// Run as plain JS it skips Node's type stripping (a WebAssembly compiler, ~25 MiB resident) and the
// unbundled module graph; see the README (Node plugin → Memory) for the measured difference.
// csi.proto is not bundled: the plugin still loads it at start (--csi-proto / CSI_PROTO_PATH / cache).
import { build } from 'esbuild';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const BUNDLE = fileURLToPath(new URL('../dist/node-plugin.mjs', import.meta.url));
/** The V8 flags the DaemonSet runs the bundle with (manifests/node-daemonset.yaml; a unit test checks they agree). */
export const BUNDLE_NODE_FLAGS = ['--max-semi-space-size=1', '--lite-mode'];

export async function bundleNodePlugin(): Promise<{ path: string; bytes: number }> {
  await build({
    entryPoints: [fileURLToPath(new URL('../src/node/main.ts', import.meta.url))],
    outfile: BUNDLE,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    // Keeps `new Error().stack` and log lines readable; minifying saves little resident memory.
    minify: false,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
    // The CommonJS dependencies (@grpc/grpc-js, protobufjs, pino) call require() for Node's built-ins,
    // which an ESM file has no binding for.
    banner: { js: "import { createRequire as __kubeIaasCreateRequire } from 'node:module';\nconst require = __kubeIaasCreateRequire(import.meta.url);" },
  });
  return { path: BUNDLE, bytes: (await stat(BUNDLE)).size };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { path, bytes } = await bundleNodePlugin();
  console.log(`${path} (${Math.round(bytes / 1024)} KiB)`);
}
