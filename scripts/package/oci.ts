// An OCI image layout (https://github.com/opencontainers/image-spec/blob/main/image-layout.md) as one
// tar: oci-layout, index.json and blobs/sha256/<digest> for the config, the manifest and each gzip
// layer. Pure: the same layers and config give the same bytes, hence the same digests.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzip, sha256, tar, type TarEntry } from './tar.ts';

export interface Layer {
  /** Shown in the README and the build log; not part of the image. */
  name: string;
  entries: TarEntry[];
}

export interface ImageConfig {
  user: string;
  entrypoint: string[];
  cmd?: string[];
  env: string[];
  workingDir: string;
  labels: Record<string, string>;
  /** RFC 3339; fixed so the config blob does not change with the clock. */
  created: string;
  exposedPorts?: string[];
}

export interface BuiltLayer {
  name: string;
  digest: string;
  diffId: string;
  size: number;
  uncompressed: number;
}

export interface BuiltImage {
  /** The OCI layout tar. */
  tar: Buffer;
  /** Digest of the manifest: what a registry calls the image's digest. */
  digest: string;
  layers: BuiltLayer[];
  /** Compressed layers + config + manifest: what a pull transfers. */
  compressedSize: number;
  /** Unpacked layers: what the image takes on a node's disk. */
  uncompressedSize: number;
}

function json(v: unknown): Buffer {
  return Buffer.from(JSON.stringify(v));
}

/**
 * gzip is deterministic, so a layer's compressed form can be kept by the digest of its tar: the Node
 * layer (108 MB, the same in every image) is compressed once per machine instead of once per image.
 */
function compress(raw: Buffer, diffId: string, cacheDir: string | undefined): Buffer {
  if (!cacheDir) return gzip(raw);
  const file = join(cacheDir, `${diffId}.tar.gz`);
  if (existsSync(file)) return readFileSync(file);
  const gz = gzip(raw);
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(`${file}.${process.pid}.tmp`, gz);
  renameSync(`${file}.${process.pid}.tmp`, file);
  return gz;
}

export function buildImage(layers: readonly Layer[], cfg: ImageConfig, refName: string, opts: { mtime?: number; layerCache?: string } = {}): BuiltImage {
  const mtime = opts.mtime ?? 0;
  const blobs = new Map<string, Buffer>();
  const built: BuiltLayer[] = [];
  for (const l of layers) {
    const raw = tar(l.entries, mtime);
    const diffId = sha256(raw);
    const gz = compress(raw, diffId, opts.layerCache);
    const digest = sha256(gz);
    blobs.set(digest, gz);
    built.push({ name: l.name, digest: `sha256:${digest}`, diffId: `sha256:${diffId}`, size: gz.length, uncompressed: raw.length });
  }
  const config = json({
    created: cfg.created,
    architecture: 'amd64',
    os: 'linux',
    config: {
      User: cfg.user,
      Entrypoint: cfg.entrypoint,
      ...(cfg.cmd ? { Cmd: cfg.cmd } : {}),
      Env: cfg.env,
      WorkingDir: cfg.workingDir,
      Labels: cfg.labels,
      ...(cfg.exposedPorts ? { ExposedPorts: Object.fromEntries(cfg.exposedPorts.map((p) => [p, {}])) } : {}),
    },
    rootfs: { type: 'layers', diff_ids: built.map((b) => b.diffId) },
    history: built.map((b) => ({ created: cfg.created, created_by: `kube-iaas scripts/package: ${b.name}` })),
  });
  const configDigest = sha256(config);
  blobs.set(configDigest, config);
  const manifest = json({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${configDigest}`, size: config.length },
    layers: built.map((b) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: b.digest, size: b.size })),
    annotations: { ...cfg.labels, 'org.opencontainers.image.created': cfg.created },
  });
  const manifestDigest = sha256(manifest);
  blobs.set(manifestDigest, manifest);
  const index = json({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: `sha256:${manifestDigest}`,
        size: manifest.length,
        platform: { architecture: 'amd64', os: 'linux' },
        annotations: { 'org.opencontainers.image.ref.name': refName },
      },
    ],
  });
  const entries: TarEntry[] = [
    { path: 'oci-layout', type: 'file', mode: 0o644, data: json({ imageLayoutVersion: '1.0.0' }) },
    { path: 'index.json', type: 'file', mode: 0o644, data: index },
    ...[...blobs].map(([d, data]): TarEntry => ({ path: `blobs/sha256/${d}`, type: 'file', mode: 0o644, data })),
  ];
  return {
    tar: tar(entries, mtime),
    digest: `sha256:${manifestDigest}`,
    layers: built,
    compressedSize: built.reduce((s, b) => s + b.size, 0) + config.length + manifest.length,
    uncompressedSize: built.reduce((s, b) => s + b.uncompressed, 0),
  };
}
