import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { removeNamespaces } from './node-simulator/net-topology.ts';
import { nodeSimRoot } from './node-storage.ts';
import { repoRoot, stateDir } from './paths.ts';

/**
 * The start of every name the node simulator's pod network puts on the machine (network namespaces, the CNI
 * network name, cnitool's result files): `kis` + 6 hex of the state directory, so two testbeds on one machine
 * never touch each other's namespaces.
 */
export function netPrefix(dir: string = stateDir()): string {
  return `kis${createHash('sha1').update(resolve(dir)).digest('hex').slice(0, 6)}`;
}

/**
 * What a previous simulator left of the pod network (a killed one cannot clean up): its namespaces (their
 * links and nft tables go with them) and cnitool's result files, found by the prefix alone.
 */
export function removeNodeNetwork(dir: string): number {
  if (process.getuid?.() !== 0) return 0;
  const prefix = netPrefix(dir);
  const n = removeNamespaces(prefix);
  try {
    for (const f of readdirSync('/var/lib/cni/results')) if (f.startsWith(`${prefix}-`)) rmSync(join('/var/lib/cni/results', f), { force: true });
  } catch {
    // no results directory
  }
  return n;
}

/**
 * The environment that makes the simulator wire pods for real: root (network namespaces, nftables), the
 * repo's pinned net tools (`install-net-tools.sh`) and cnitool built from the Go module proxy
 * (`build-cni-tools.sh`, cached). Returns the reason instead when the machine cannot.
 */
export function cniNodeEnv(dir: string, log: (msg: string) => void): Record<string, string> | string {
  if (process.getuid?.() !== 0) return 'not root: network namespaces need root';
  const scripts = join(repoRoot(), 'testbed', 'scripts');
  try {
    execFileSync('bash', [join(scripts, 'install-net-tools.sh')], { stdio: ['ignore', 'ignore', 'pipe'] });
    const out = execFileSync('bash', [join(scripts, 'build-cni-tools.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const cnitool = out.trim().split('\n').pop();
    if (!cnitool) return 'build-cni-tools.sh printed no directory';
    return {
      NODE_SIM_NET_PREFIX: netPrefix(dir),
      NODE_SIM_CNI_ROOT: join(nodeSimRoot(dir), 'cni'),
      NODE_SIM_CNITOOL: cnitool,
      NODE_SIM_ENI_AGENT: join(repoRoot(), 'packages', 'eni-operator', 'src', 'node', 'agent.ts'),
    };
  } catch (e) {
    const msg = `net tools unavailable: ${(e as { stderr?: Buffer }).stderr?.toString().trim() || (e as Error).message}`;
    log(`  ${msg}`);
    return msg;
  }
}
