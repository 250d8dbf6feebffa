import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { repoRoot, stateDir } from './paths.ts';

/** What an integration test needs to reach the running testbed. */
export interface TestbedEnv {
  kubeconfig: string;
  awsEndpoint: string;
  region: string;
  clusterName: string;
  /** Variables to hand to a child process (an operator under test). */
  env: Record<string, string>;
}

/** Reads `.testbed/aws.env` written by `testbed up` (the vitest global setup runs it). */
export function testbedEnv(): TestbedEnv {
  const dir = stateDir();
  const env: Record<string, string> = {};
  for (const line of readFileSync(join(dir, 'aws.env'), 'utf8').split('\n')) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined) env[m[1]] = m[2].replace(/^'(.*)'$/, '$1');
  }
  env.KUBECONFIG = join(dir, 'kubeconfig');
  return {
    kubeconfig: env.KUBECONFIG,
    awsEndpoint: env.AWS_ENDPOINT_URL ?? '',
    region: env.AWS_REGION ?? '',
    clusterName: env.CLUSTER_NAME ?? '',
    env,
  };
}

/** A KubeConfig for the testbed's kube-apiserver, as cluster-admin. */
export function testbedKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(testbedEnv().kubeconfig);
  return kc;
}

export { repoRoot };

/** Stops and starts one component in place (same ports and data), to test outages. */
export { restartComponent } from './testbed.ts';
