// The agent installs the plugin where the runtime looks for it: an executable wrapper in the CNI bin dir
// (Node with the compile cache on, running src/node/plugin.ts) and our conflist in the CNI conf dir.
// Both are written to a temporary name and renamed, so a runtime never reads half a file.
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CNI_VERSION } from '../cni.ts';

export const PLUGIN_TYPE = 'kube-iaas-eni';

export interface InstallOptions {
  networkName: string;
  binDir: string;
  confDir: string;
  socket: string;
  stateDir: string;
  mtu: number;
  grantTimeoutSeconds: number;
  excludeSnatCidrs: string[];
  compileCacheDir: string;
}

export function conflist(o: InstallOptions): object {
  return {
    cniVersion: CNI_VERSION,
    name: o.networkName,
    plugins: [
      { type: PLUGIN_TYPE, agentSocket: o.socket, stateDir: o.stateDir, mtu: o.mtu, grantTimeoutSeconds: o.grantTimeoutSeconds, excludeSnatCidrs: o.excludeSnatCidrs },
    ],
  };
}

export function wrapperScript(nodePath: string, pluginPath: string, compileCacheDir: string): string {
  return `#!/bin/sh\nNODE_COMPILE_CACHE=${compileCacheDir} exec ${nodePath} --disable-warning=ExperimentalWarning ${pluginPath} "$@"\n`;
}

function atomicWrite(path: string, content: string, mode: number): void {
  writeFileSync(`${path}.tmp`, content, { mode });
  chmodSync(`${path}.tmp`, mode);
  renameSync(`${path}.tmp`, path);
}

export function installPlugin(o: InstallOptions): { plugin: string; conflist: string } {
  mkdirSync(o.binDir, { recursive: true });
  mkdirSync(o.confDir, { recursive: true });
  mkdirSync(o.compileCacheDir, { recursive: true });
  const pluginPath = fileURLToPath(new URL('../plugin.ts', import.meta.url));
  const plugin = join(o.binDir, PLUGIN_TYPE);
  atomicWrite(plugin, wrapperScript(process.execPath, pluginPath, o.compileCacheDir), 0o755);
  const conf = join(o.confDir, `10-${o.networkName}.conflist`);
  atomicWrite(conf, JSON.stringify(conflist(o), null, 2) + '\n', 0o644);
  return { plugin, conflist: conf };
}
