import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { loopDevicesUnavailable, scrubHostStorage } from './node-simulator/host-storage.ts';
import { repoRoot } from './paths.ts';

/** The node simulator's own root in the state dir: the volumes' data, device roots, kubelet dirs, sockets. */
export function nodeSimRoot(dir: string): string {
  return join(dir, 'node-sim');
}

/**
 * Everything a previous run left on the machine (mounts, loop devices, the volumes' data), for
 * `testbed down` and for `testbed up` after a crash: found by the root, not by a live process.
 */
export function removeNodeStorage(dir: string): { mounts: number; loops: number } {
  const root = nodeSimRoot(dir);
  const left = scrubHostStorage(root);
  rmSync(root, { recursive: true, force: true });
  return left;
}

/**
 * The environment that makes the simulator run the CSI node plugin per node: only as root with loop
 * devices, after the repo's pinned tools are in place (xfsprogs through apt, csi.proto and csi-sanity
 * from the Go module proxy — both scripts cache, so this costs nothing after the first run).
 * Returns the reason instead when the machine cannot.
 */
export function csiNodeEnv(dir: string, log: (msg: string) => void): Record<string, string> | string {
  const why = loopDevicesUnavailable();
  if (why) return why;
  const scripts = join(repoRoot(), 'testbed', 'scripts');
  try {
    execFileSync('bash', [join(scripts, 'install-node-tools.sh')], { stdio: ['ignore', 'ignore', 'pipe'] });
    const out = execFileSync('bash', [join(scripts, 'build-csi-tools.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const protoPath = out.trim().split('\n')[0];
    if (!protoPath) return `build-csi-tools.sh printed no csi.proto path`;
    return {
      NODE_SIM_ROOT: nodeSimRoot(dir),
      NODE_SIM_CSI_PROTO: protoPath,
      NODE_SIM_CSI_PLUGIN: join(repoRoot(), 'packages', 'volume-operator', 'src', 'node', 'main.ts'),
    };
  } catch (e) {
    const msg = `node tools unavailable: ${(e as { stderr?: Buffer }).stderr?.toString().trim() || (e as Error).message}`;
    log(`  ${msg}`);
    return msg;
  }
}
