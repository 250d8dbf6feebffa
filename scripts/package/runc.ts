// Runs an image from dist/images with runc (Debian's, testbed/scripts/install-runc.sh), no daemon: the
// OCI layout is unpacked into a rootfs, the image config becomes the runtime spec (its user, entrypoint,
// env, working dir; a read-only root; /tmp a tmpfs as the chart mounts it), in the host's network
// namespace so the container reaches the testbed on 127.0.0.1. Cgroups are left out: runc's cgroup v1
// setup is not what is under test, and this machine's hybrid layout only complicates it.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../testbed/src/paths.ts';

export function runcBinary(): string {
  return execFileSync(join(repoRoot(), 'testbed', 'scripts', 'install-runc.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
}

interface ImageConfigFile {
  config: { User: string; Entrypoint: string[]; Env: string[]; WorkingDir: string; Labels: Record<string, string> };
}

export interface Unpacked {
  dir: string;
  rootfs: string;
  config: ImageConfigFile['config'];
  /** Paths in the rootfs, for the "no shell, no npm" check. */
  files: string[];
  remove(): void;
}

/** Unpacks an OCI layout tar (index → manifest → layers in order) into a fresh directory. */
export function unpackImage(ociTar: string): Unpacked {
  const dir = mkdtempSync(join(tmpdir(), 'kube-iaas-image-'));
  const layout = join(dir, 'layout');
  const rootfs = join(dir, 'rootfs');
  mkdirSync(layout);
  mkdirSync(rootfs);
  execFileSync('tar', ['-xf', ociTar, '-C', layout]);
  const blob = (d: string) => join(layout, 'blobs', 'sha256', d.replace(/^sha256:/, ''));
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const manifest = JSON.parse(readFileSync(blob(index.manifests[0]!.digest), 'utf8')) as { config: { digest: string }; layers: { digest: string }[] };
  const files: string[] = [];
  for (const l of manifest.layers) {
    files.push(...execFileSync('tar', ['-tzf', blob(l.digest)], { encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n').filter(Boolean));
    execFileSync('tar', ['--same-owner', '-xzf', blob(l.digest), '-C', rootfs]);
  }
  const config = (JSON.parse(readFileSync(blob(manifest.config.digest), 'utf8')) as ImageConfigFile).config;
  return { dir, rootfs, config, files, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface RunOptions {
  /** Replaces the image's Cmd (appended to its Entrypoint). */
  args?: string[];
  env?: Record<string, string>;
  /** Host files mounted read-only at the same path. */
  mounts?: string[];
}

/** The runtime spec runc wants, from the image config. */
export function runtimeSpec(img: Unpacked, o: RunOptions): object {
  const [uid, gid] = img.config.User.split(':').map(Number);
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid, gid },
      args: [...img.config.Entrypoint, ...(o.args ?? [])],
      env: [...img.config.Env, ...Object.entries(o.env ?? {}).map(([k, v]) => `${k}=${v}`)],
      cwd: img.config.WorkingDir,
      capabilities: { bounding: [], effective: [], permitted: [], ambient: [] },
      noNewPrivileges: true,
    },
    root: { path: img.rootfs, readonly: true },
    hostname: 'kube-iaas',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', 'size=65536k'] },
      ...(o.mounts ?? []).map((m) => ({ destination: m, type: 'bind', source: m, options: ['rbind', 'ro'] })),
    ],
    linux: {
      // Host network (the testbed listens on 127.0.0.1); its own mount, PID, IPC and UTS namespaces.
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/sys/firmware'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

export interface Container {
  id: string;
  child: ChildProcess;
  output: string[];
  /** The container's init process on the host (`runc state`), undefined until it runs. */
  pid(): number | undefined;
  /** Kills and deletes the container, removes its bundle directory. */
  remove(): void;
}

/** `runc run` in the background; the container's output is collected. */
export function runContainer(runc: string, img: Unpacked, o: RunOptions): Container {
  const id = `kube-iaas-${process.pid}-${Date.now().toString(36)}`;
  const bundle = join(img.dir, id);
  const state = join(img.dir, 'runc-state');
  mkdirSync(bundle);
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(runtimeSpec(img, o)));
  const child = spawn(runc, ['--root', state, 'run', '--bundle', bundle, id], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const keep = (b: Buffer) => output.push(...b.toString().split('\n').filter(Boolean));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return {
    id,
    child,
    output,
    pid: () => {
      try {
        const st = JSON.parse(execFileSync(runc, ['--root', state, 'state', id], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as { pid?: number; status?: string };
        return st.status === 'running' && st.pid ? st.pid : undefined;
      } catch {
        return undefined;
      }
    },
    remove: () => {
      try {
        execFileSync(runc, ['--root', state, 'delete', '--force', id], { stdio: 'ignore' });
      } catch {
        // already gone
      }
      rmSync(bundle, { recursive: true, force: true });
    },
  };
}

/** Runs to completion and returns what it printed and its exit code. */
export async function runToEnd(runc: string, img: Unpacked, o: RunOptions, timeoutMs = 60_000): Promise<{ code: number | null; output: string }> {
  const c = runContainer(runc, img, o);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`container ${c.id} still running after ${timeoutMs} ms: ${c.output.join('\n')}`)), timeoutMs);
      c.child.once('exit', (code) => {
        clearTimeout(t);
        resolve(code);
      });
    });
    return { code, output: c.output.join('\n') };
  } finally {
    c.remove();
  }
}
