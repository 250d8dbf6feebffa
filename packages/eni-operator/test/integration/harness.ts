// Runs the real operator (src/main.ts as a child process) against the testbed and reads Kubernetes
// and moto directly to check what it did. No fakes.
import { fileURLToPath } from 'node:url';
import { EC2Client } from '@aws-sdk/client-ec2';
import { KubeClient } from '@kube-iaas/core/runtime';
import { OperatorProcess as TestbedOperator, testbedEnv, testbedKubeConfig } from '@kube-iaas/testbed/testing';

export { freePort, waitFor } from '@kube-iaas/testbed/testing';

export const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

/** The operator's entry point run as a child process, with the flags every test wants (leader election off unless asked for). */
export const OperatorProcess = {
  start: (extraArgs: string[] = []): Promise<TestbedOperator> =>
    TestbedOperator.start(MAIN, [...(extraArgs.some((a) => a.startsWith('--leader-elect')) ? [] : ['--leader-elect=false']), '--resync-period=1h', ...extraArgs]),
};

/**
 * Leader election with short timings: the one allocator annotates first and records after. The Lease is
 * the operator's own (`kube-system/eni-operator`): its ServiceAccount's Role allows no other.
 */
export function leaderArgs(identity: string): string[] {
  return ['--leader-elect', '--leader-elect-namespace=kube-system', `--leader-elect-identity=${identity}`, '--leader-elect-lease-duration=3s', '--leader-elect-renew-deadline=2s', '--leader-elect-retry-period=500ms'];
}
export type OperatorProcess = TestbedOperator;

export function clients() {
  Object.assign(process.env, testbedEnv().env);
  return { kube: new KubeClient(testbedKubeConfig()), ec2: new EC2Client({}) };
}

export type Clients = ReturnType<typeof clients>;

/** True when `ip` is inside the IPv4 `cidr`. */
export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const n = (s: string) => s.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const mask = 2 ** 32 - 2 ** (32 - Number(bits));
  return (n(ip) & mask) >>> 0 === (n(base ?? '') & mask) >>> 0;
}
