import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot, repoRoot } from './paths.ts';

export const K8S_VERSION = 'v1.37.2';
export const ETCD_VERSION = 'v3.7.0';
export const BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'] as const;
export type Binary = (typeof BINARIES)[number];

export function cachedBinDir(): string {
  return join(cacheRoot(), `k8s-${K8S_VERSION}`, 'bin');
}

function complete(dir: string): boolean {
  return BINARIES.every((b) => existsSync(join(dir, b)));
}

/**
 * Where the control-plane binaries are. KUBEBUILDER_ASSETS (what envtest users already have)
 * wins when it holds all of them; otherwise the cache, built from the Go module proxy on first use.
 */
export async function ensureBinaries(log: (line: string) => void): Promise<string> {
  const assets = process.env.KUBEBUILDER_ASSETS;
  if (assets) {
    if (complete(assets)) return assets;
    log(`KUBEBUILDER_ASSETS=${assets} lacks some of ${BINARIES.join(', ')}; using the built cache instead`);
  }
  const dir = cachedBinDir();
  if (complete(dir)) return dir;
  log(`building Kubernetes ${K8S_VERSION} and etcd ${ETCD_VERSION} from the Go module proxy into ${dir} (first time only)`);
  const script = join(repoRoot(), 'testbed', 'scripts', 'build-k8s.sh');
  await new Promise<void>((resolve, reject) => {
    const child = spawn('bash', [script], {
      env: { ...process.env, K8S_VERSION, ETCD_VERSION, KUBE_IAAS_CACHE: cacheRoot() },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let last = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) {
        if (!line) continue;
        last = line;
        // go prints one line per downloaded module; show only the build's own progress lines.
        if (line.startsWith('[build-k8s')) log(line);
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`Kubernetes build failed (exit ${code}): ${last}`))));
  });
  if (!complete(dir)) throw new Error(`build finished but ${dir} lacks binaries`);
  return dir;
}
