import { KubeConfig } from '@kubernetes/client-node';
import { EC2Client } from '@aws-sdk/client-ec2';
import { NodeSimulator } from './simulator.ts';

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
const sim = new NodeSimulator({ kc, ec2: new EC2Client({ region }), cluster: env('CLUSTER_NAME'), region, podIpSource: source });

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
const shutdown = () => void sim.stop().then(() => process.exit(0));
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
