// The agent's DaemonSet: every flag it passes is one the agent accepts, and the hostPath mounts hold what
// the flags point at; RBAC grants the two watches read-only.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const text = readFileSync(fileURLToPath(new URL('../../manifests/node-daemonset.yaml', import.meta.url)), 'utf8');
const agentSrc = readFileSync(fileURLToPath(new URL('../../src/node/agent.ts', import.meta.url)), 'utf8');
const argsBlock = text.slice(text.indexOf('          args:'), text.indexOf('          env:'));
const args = [...argsBlock.matchAll(/^\s+- --([a-z-]+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!] as const);
const hostPaths = [...text.matchAll(/mountPath: (\S+?)[,\s]/g)].map((m) => m[1]!);

it('passes only flags the agent parses', () => {
  const known = new Set([...agentSrc.matchAll(/^\s+'?([a-z-]+)'?: \{ type: 'string'/gm)].map((m) => m[1]!));
  expect(args.length).toBeGreaterThan(5);
  for (const [flag] of args) expect(known, `--${flag}`).toContain(flag);
  expect(Object.fromEntries(args)['vpc-cidrs']).toBe('192.168.192.0/22');
});

it('mounts every directory its flags name, and the node name comes from the downward API', () => {
  for (const [flag, value] of args) {
    if (!['socket', 'cni-bin-dir', 'cni-conf-dir', 'state-dir', 'compile-cache-dir'].includes(flag)) continue;
    expect(hostPaths.some((p) => value === p || value.startsWith(`${p}/`)), `--${flag}=${value}`).toBe(true);
  }
  expect(text).toMatch(/name: NODE_NAME\s+valueFrom:\s+fieldRef:\s+fieldPath: spec\.nodeName/);
  expect(text).toContain('hostNetwork: true');
});

it('RBAC: get/list/watch on pods and enipools, nothing else', () => {
  const rules = text.slice(text.indexOf('kind: ClusterRole\n'), text.indexOf('kind: ClusterRoleBinding'));
  expect(rules).toMatch(/resources: \[pods\]\s+verbs: \[get, list, watch\]/);
  expect(rules).toMatch(/apiGroups: \[network\.kube-iaas\.dev\]\s+resources: \[enipools\]\s+verbs: \[get, list, watch\]/);
  expect([...rules.matchAll(/verbs: \[([^\]]*)\]/g)].every((m) => m[1] === 'get, list, watch')).toBe(true);
});
