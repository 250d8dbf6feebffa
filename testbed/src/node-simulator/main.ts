import { KubeConfig } from '@kubernetes/client-node';
import { EC2Client } from '@aws-sdk/client-ec2';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { ebsVolumeSlots } from '@kube-iaas/core/instance-types';
import { NodeSimulator, type SimulatorHooks } from './simulator.ts';
import { csiKubeletFromEnv } from './csi-setup.ts';
import { cniKubeletFromEnv } from './cni-setup.ts';

/**
 * Entry point of the testbed's node simulator: a stand-in for every kubelet of the cluster, run
 * by `testbed up` as a background process. Settings come from the environment `up` writes.
 */
const env = (name: string, fallback?: string): string => {
  const v = process.env[name] ?? fallback;
  if (!v) {
    console.error(`node-simulator: ${name} must be set`);
    process.exit(2);
  }
  return v;
};

const kc = new KubeConfig();
kc.loadFromFile(env('KUBECONFIG'));
const region = env('AWS_REGION');
const source = env('NODE_SIM_POD_IPS', 'local');
if (source !== 'local' && source !== 'annotation') {
  console.error(`node-simulator: NODE_SIM_POD_IPS must be "local" or "annotation", got "${source}"`);
  process.exit(2);
}

/**
 * CSI drivers whose node plugin "runs" on every node: their CSINode entry is written as the
 * plugin's registration would (node ID = instance ID, topology by zone, attach limit = EBS slots
 * left with the primary ENI attached). Empty (`NODE_SIM_CSI_DRIVERS=`) registers none.
 */
const csiDrivers = (process.env.NODE_SIM_CSI_DRIVERS ?? 'ebs.kube-iaas.dev')
  .split(',')
  .map((d) => d.trim())
  .filter(Boolean);
const log = (msg: string, fields?: Record<string, unknown>) => console.log(JSON.stringify({ time: new Date().toISOString(), component: 'node-simulator', msg, ...fields }));
const ec2 = new EC2Client({ region });
const csiKubelet = csiKubeletFromEnv(process.env, { kc, ec2, log });
const cniKubelet = cniKubeletFromEnv(process.env, { kc, ec2, log, cluster: env('CLUSTER_NAME') });
const hooks: SimulatorHooks = {
  agents: [csiKubelet, cniKubelet].filter((a) => a !== undefined),
  csiDrivers: (inst, facts) =>
    csiDrivers.map((name) => ({
      name,
      nodeID: inst.instanceId,
      topologyKeys: ['topology.kubernetes.io/zone'],
      allocatable: { count: ebsVolumeSlots(facts, { attachedEnis: 1 }) },
    })),
};
const sim = new NodeSimulator({ kc, ec2, log, autoScaling: new AutoScalingClient({ region }), cluster: env('CLUSTER_NAME'), region, podIpSource: source, hooks });
if (cniKubelet) cniKubelet.wake = (namespace, name) => sim.wake(namespace, name);

for (;;) {
  try {
    await sim.start();
    break;
  } catch (e) {
    // The apiserver or moto may still be starting; a kubelet keeps trying too.
    console.error(JSON.stringify({ component: 'node-simulator', msg: 'start failed, retrying', error: String(e) }));
    await new Promise((r) => setTimeout(r, 1000));
  }
}
const shutdown = () =>
  void sim
    .stop()
    .catch((e) => log('stop failed', { error: String(e) }))
    .then(() => process.exit(0));
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
