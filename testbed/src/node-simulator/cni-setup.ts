import type { KubeConfig } from '@kubernetes/client-node';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { CniKubelet } from './cni-kubelet.ts';

/**
 * The pod network when the machine allows it: `testbed up` sets NODE_SIM_NET_PREFIX, NODE_SIM_CNI_ROOT,
 * NODE_SIM_CNITOOL and NODE_SIM_ENI_AGENT once it has the tools and runs as root. Otherwise pods keep
 * placeholder addresses (100.64.0.0/10), and the simulator says why, once.
 */
export function cniKubeletFromEnv(
  env: NodeJS.ProcessEnv,
  deps: { kc: KubeConfig; ec2: EC2Client; cluster: string; log: (msg: string, fields?: Record<string, unknown>) => void },
): CniKubelet | undefined {
  const { NODE_SIM_NET_PREFIX: prefix, NODE_SIM_CNI_ROOT: root, NODE_SIM_CNITOOL: cnitoolDir, NODE_SIM_ENI_AGENT: agentMain } = env;
  if (!prefix || !root || !cnitoolDir || !agentMain) {
    deps.log('CNI not run: pods get placeholder addresses from 100.64.0.0/10', { reason: env.NODE_SIM_NO_CNI_REASON ?? 'NODE_SIM_NET_PREFIX, NODE_SIM_CNI_ROOT, NODE_SIM_CNITOOL or NODE_SIM_ENI_AGENT not set' });
    return undefined;
  }
  const grant = Number(env.NODE_SIM_CNI_GRANT_TIMEOUT ?? '10');
  const unserved = Number(env.NODE_SIM_CNI_UNSERVED_SECONDS ?? '30');
  return new CniKubelet({ ...deps, prefix, root, cnitoolDir, agentMain, grantTimeoutSeconds: grant > 0 ? grant : 10, unservedAfterMs: (unserved > 0 ? unserved : 30) * 1000 });
}
