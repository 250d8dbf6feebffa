// The image's runtime, from pinned inputs only: Node from the pinned `node` npm package (stripped of
// its debug symbols), the shared libraries it links against (ldd) taken out of pinned Debian packages,
// Mozilla's CA certificates from Debian's ca-certificates, and passwd/group naming the non-root user.
// Debian packages are fetched with `apt-get download` (signed indexes) into ~/.cache/kube-iaas/debs.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { cacheRoot, repoRoot } from '../../testbed/src/paths.ts';
import { sha256, type TarEntry } from './tar.ts';

/** Debian bookworm packages, pinned; bump together with a rebuild of every image. */
export const DEBS: Record<string, string> = {
  libc6: '2.36-9+deb12u14',
  'libstdc++6': '12.2.0-14+deb12u1',
  'libgcc-s1': '12.2.0-14+deb12u1',
  'ca-certificates': '20250419~deb12u2',
};

export const RUNTIME_UID = 65532;
const LIB_DIR = 'lib/x86_64-linux-gnu';

/** Downloads (once) and unpacks (once) a pinned package; returns the unpacked tree. */
export function debTree(pkg: string): string {
  const version = DEBS[pkg];
  if (!version) throw new Error(`no pinned version for Debian package ${pkg}`);
  const dir = join(cacheRoot(), 'debs');
  const tree = join(dir, `${pkg}_${version}`);
  if (existsSync(join(tree, '.done'))) return tree;
  mkdirSync(dir, { recursive: true });
  const deb = readdirSync(dir).find((f) => f.startsWith(`${pkg}_${version.replace(/:/g, '%3a')}_`) && f.endsWith('.deb'));
  if (!deb) {
    try {
      execFileSync('apt-get', ['download', `${pkg}=${version}`], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      throw new Error(`apt-get download ${pkg}=${version} failed (run apt-get update; if Debian has dropped this version, bump DEBS in scripts/package/runtime.ts): ${String(err)}`, { cause: err });
    }
  }
  const file = readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb') && f.includes(version.replace(/:/g, '%3a')));
  if (!file) throw new Error(`apt-get download left no .deb for ${pkg}=${version} in ${dir}`);
  rmSync(`${tree}.tmp`, { recursive: true, force: true });
  execFileSync('dpkg-deb', ['-x', join(dir, file), `${tree}.tmp`]);
  renameSync(`${tree}.tmp`, tree);
  execFileSync('touch', [join(tree, '.done')]);
  return tree;
}

/** The pinned Node binary, without debug symbols (126 → 108 MB; stack traces keep their JS frames). */
export function nodeBinary(): { path: string; version: string } {
  const src = realpathSync(join(repoRoot(), 'node_modules', 'node', 'bin', 'node'));
  const version = execFileSync(src, ['--version'], { encoding: 'utf8' }).trim();
  const out = join(cacheRoot(), 'image-node', `node-${version}-${sha256(readFileSync(src)).slice(0, 16)}`);
  if (!existsSync(out)) {
    mkdirSync(join(cacheRoot(), 'image-node'), { recursive: true });
    execFileSync('strip', ['--strip-debug', '--strip-unneeded', '-o', `${out}.tmp`, src]);
    renameSync(`${out}.tmp`, out);
  }
  return { path: out, version };
}

/** Sonames (and the program interpreter) the binary loads, from ldd. */
export function neededLibraries(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(\S+)\s*(?:=>\s*(\S+))?/.exec(line);
    if (!m || m[1] === 'linux-vdso.so.1') continue;
    if (m[2] === 'not') throw new Error(`ldd ${binary}: ${line.trim()}`);
    libs.push(basename(m[1]!));
  }
  return libs.sort();
}

function findInTrees(soname: string, trees: string[]): string {
  for (const t of trees) {
    for (const d of [LIB_DIR, `usr/${LIB_DIR}`]) {
      const p = join(t, d, soname);
      if (existsSync(p)) return realpathSync(p);
    }
  }
  throw new Error(`${soname} is in none of the pinned Debian packages ${Object.keys(DEBS).join(', ')}`);
}

/** /etc/ssl/certs/ca-certificates.crt as update-ca-certificates would write it, from the package's certs. */
function caBundle(tree: string): Buffer {
  const dir = join(tree, 'usr/share/ca-certificates/mozilla');
  const certs = readdirSync(dir).filter((f) => f.endsWith('.crt')).sort();
  return Buffer.concat(certs.map((f) => readFileSync(join(dir, f))));
}

export interface RuntimeLayers {
  base: TarEntry[];
  node: TarEntry[];
  nodeVersion: string;
  libraries: string[];
}

export function runtimeLayers(): RuntimeLayers {
  const node = nodeBinary();
  const trees = ['libc6', 'libstdc++6', 'libgcc-s1'].map(debTree);
  const libraries = neededLibraries(node.path);
  const base: TarEntry[] = [];
  for (const soname of libraries) {
    const data = readFileSync(findInTrees(soname, trees));
    // The interpreter is looked up at its absolute path in the ELF header.
    const path = soname.startsWith('ld-linux') ? `lib64/${soname}` : `${LIB_DIR}/${soname}`;
    base.push({ path, type: 'file', mode: 0o755, data });
  }
  const u = RUNTIME_UID;
  base.push(
    { path: 'etc/passwd', type: 'file', mode: 0o644, data: Buffer.from(`root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:${u}:${u}:nonroot:/home/nonroot:/sbin/nologin\n`) },
    { path: 'etc/group', type: 'file', mode: 0o644, data: Buffer.from(`root:x:0:\nnonroot:x:${u}:\n`) },
    { path: 'etc/nsswitch.conf', type: 'file', mode: 0o644, data: Buffer.from('hosts: files dns\npasswd: files\ngroup: files\n') },
    { path: 'etc/ssl/certs/ca-certificates.crt', type: 'file', mode: 0o644, data: caBundle(debTree('ca-certificates')) },
    // With a read-only root filesystem the chart mounts an emptyDir here; without one Node still starts.
    { path: 'tmp', type: 'dir', mode: 0o1777 },
    { path: 'home/nonroot', type: 'dir', mode: 0o755 },
  );
  return {
    base,
    node: [{ path: 'usr/local/bin/node', type: 'file', mode: 0o755, data: readFileSync(node.path) }],
    nodeVersion: node.version,
    libraries,
  };
}

