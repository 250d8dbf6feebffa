import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export function repoRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/** Per-checkout runtime state (kubeconfig, certs, logs, pids); git-ignored. */
export function stateDir(): string {
  return process.env.KUBE_IAAS_TESTBED_DIR ?? join(repoRoot(), '.testbed');
}

/** Built binaries and the moto virtualenv, shared by every checkout on the machine. */
export function cacheRoot(): string {
  return process.env.KUBE_IAAS_CACHE ?? join(homedir(), '.cache', 'kube-iaas');
}
