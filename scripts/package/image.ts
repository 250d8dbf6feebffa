// One operator's image: runtime (libraries, CA certificates, passwd), Node, and the operator's bundle
// as three layers, so a cluster running several kube-iaas operators pulls the first two once.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot, repoRoot } from '../../testbed/src/paths.ts';
import { buildImage, type BuiltImage, type ImageConfig } from './oci.ts';
import { runtimeLayers, RUNTIME_UID } from './runtime.ts';
import { bundlePath, distDir, packageVersion, type ShipTarget } from './targets.ts';
import type { TarEntry } from './tar.ts';

export const APP_DIR = 'opt/kube-iaas';
export const SOURCE_URL = 'https://github.com/kube-iaas/kube-iaas';
/** The volume node plugin loads the CSI specification at start (packages/volume-operator/src/node/csi-spec.ts). */
const CSI_SPEC = 'csi-spec-v1.14.0';

export function imageName(t: ShipTarget): string {
  return `ghcr.io/kube-iaas/${t.name}`;
}

export function imageFile(t: ShipTarget, version = packageVersion(t)): string {
  return join(distDir(), 'images', `${t.name}-${version}.oci.tar`);
}

function appLayer(t: ShipTarget): TarEntry[] {
  const out: TarEntry[] = [];
  for (const e of t.entries) {
    const b = bundlePath(t, e.name);
    if (!existsSync(b)) throw new Error(`${b} is missing: bundle before building the image`);
    out.push({ path: `${APP_DIR}/${e.name}.mjs`, type: 'file', mode: 0o644, data: readFileSync(b) });
    out.push({ path: `${APP_DIR}/${e.name}.mjs.map`, type: 'file', mode: 0o644, data: readFileSync(`${b}.map`) });
  }
  if (t.entries.some((e) => e.name === 'node-plugin')) {
    let proto = join(cacheRoot(), CSI_SPEC, 'csi.proto');
    // First line of the script's output; it fetches the pinned spec from the Go module proxy once.
    if (!existsSync(proto)) proto = execFileSync(join(repoRoot(), 'testbed', 'scripts', 'build-csi-tools.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).split('\n')[0]!;
    out.push({ path: `${APP_DIR}/${CSI_SPEC}/csi.proto`, type: 'file', mode: 0o644, data: readFileSync(proto) });
  }
  return out;
}

export function imageConfig(t: ShipTarget, version: string, nodeVersion: string): ImageConfig {
  const env = ['PATH=/usr/local/bin', 'NODE_ENV=production', `KUBE_IAAS_NODE_VERSION=${nodeVersion}`];
  if (t.entries.some((e) => e.name === 'node-plugin')) env.push(`CSI_PROTO_PATH=/${APP_DIR}/${CSI_SPEC}/csi.proto`);
  return {
    user: `${RUNTIME_UID}:${RUNTIME_UID}`,
    entrypoint: ['/usr/local/bin/node', '--enable-source-maps', `/${APP_DIR}/operator.mjs`],
    env,
    workingDir: `/${APP_DIR}`,
    exposedPorts: ['8080/tcp'],
    // SOURCE_DATE_EPOCH (reproducible-builds.org) moves it; by default the epoch, so the clock never changes a digest.
    created: new Date(Number(process.env.SOURCE_DATE_EPOCH ?? 0) * 1000).toISOString().replace(/\.000Z$/, 'Z'),
    labels: {
      'org.opencontainers.image.title': `kube-iaas ${t.name}`,
      'org.opencontainers.image.description': t.description,
      'org.opencontainers.image.source': SOURCE_URL,
      'org.opencontainers.image.version': version,
      'org.opencontainers.image.licenses': 'Apache-2.0',
      'org.opencontainers.image.base.name': `node ${nodeVersion} (npm package "node") on Debian bookworm libraries`,
    },
  };
}

export interface ImageResult extends BuiltImage {
  file: string;
  ref: string;
}

export function buildOperatorImage(t: ShipTarget, opts: { version?: string; layerCache?: boolean } = {}): ImageResult {
  const version = opts.version ?? packageVersion(t);
  const rt = runtimeLayers();
  const img = buildImage(
    [
      { name: `runtime (${rt.libraries.join(', ')}, CA certificates, passwd)`, entries: rt.base },
      { name: `node ${rt.nodeVersion}`, entries: rt.node },
      { name: `${t.name} ${version} bundle`, entries: appLayer(t) },
    ],
    imageConfig(t, version, rt.nodeVersion),
    version,
    { layerCache: opts.layerCache === false ? undefined : join(cacheRoot(), 'image-layers') },
  );
  const file = imageFile(t, version);
  mkdirSync(join(distDir(), 'images'), { recursive: true });
  writeFileSync(file, img.tar);
  return { ...img, file, ref: `${imageName(t)}:${version}` };
}
