import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { CsiKubelet } from './csi-kubelet.ts';
import { loopDevicesUnavailable } from './host-storage.ts';

/**
 * The CSI volume manager when the machine allows it: `testbed up` sets NODE_SIM_ROOT (the
 * simulator's own directory), NODE_SIM_CSI_PROTO and NODE_SIM_CSI_PLUGIN once it has the tools.
 * Otherwise the simulator keeps its old behaviour (pods start once their volumes are attached),
 * and says why, once.
 */
export function csiKubeletFromEnv(
  env: NodeJS.ProcessEnv,
  deps: { kc: KubeConfig; ec2: EC2Client; log: (msg: string, fields?: Record<string, unknown>) => void },
): CsiKubelet | undefined {
  const root = env.NODE_SIM_ROOT;
  const protoPath = env.NODE_SIM_CSI_PROTO;
  const pluginMain = env.NODE_SIM_CSI_PLUGIN;
  const why = !root || !protoPath || !pluginMain ? 'NODE_SIM_ROOT, NODE_SIM_CSI_PROTO or NODE_SIM_CSI_PLUGIN not set' : loopDevicesUnavailable();
  if (why || !root || !protoPath || !pluginMain) {
    deps.log('CSI node plugins not run: pods start once their volumes are attached, nothing is mounted', { reason: why });
    return undefined;
  }
  deps.log('CSI node plugins run per node on loop devices', { root: join(root), plugin: pluginMain });
  return new CsiKubelet({ ...deps, root, protoPath, pluginMain });
}
